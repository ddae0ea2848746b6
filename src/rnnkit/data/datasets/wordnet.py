"""``wordnet``: the WordNet 3.0 database (Miller 1995; Fellbaum 1998), for NLTK's reader.

Debian's ``wordnet-base`` ships the database in ``usr/share/wordnet/`` (``data.*``,
``index.*``, ``*.exc``, ``cntlist.rev``) and ``wordnet-sense-index`` adds ``index.sense``.
The converter copies these files into one directory, checks that the four data files hold
117,659 synsets, and writes the one file NLTK's ``WordNetCorpusReader`` also opens but Debian
leaves out: ``lexnames``, the fixed list of the 45 lexicographer files of WordNet's
``lexnames(5WN)`` page, one ``NN<TAB>name<TAB>category`` line each (category 1 noun, 2 verb,
3 adjective, 4 adverb).

:func:`load_wordnet` opens such a directory and :func:`wordnet_lemmatizer` gives an
``nltk.stem.WordNetLemmatizer`` that uses it instead of the global ``nltk.corpus.wordnet``
(which would look for NLTK's own data and fail offline).
"""

from __future__ import annotations

import functools
import shutil
import warnings
from pathlib import Path
from typing import Any

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError, RnnkitError
from rnnkit.fileio import atomic_path, write_text

BASE = Package(
    "apt",
    "wordnet-base",
    "1:3.0-37",
    "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752",
)
SENSE_INDEX = Package(
    "apt",
    "wordnet-sense-index",
    "1:3.0-37",
    "b22c7d3100470d90f812acc224718e4bd362d7ca427766fa3e11013c8c7895cf",
)

SYNSETS = 117_659
PARTS_OF_SPEECH = ("adj", "adv", "noun", "verb")

#: The files NLTK's reader opens, apart from ``lexnames``, which the converter writes.
DATABASE_FILES = (
    *(f"data.{pos}" for pos in PARTS_OF_SPEECH),
    *(f"index.{pos}" for pos in PARTS_OF_SPEECH),
    *(f"{pos}.exc" for pos in PARTS_OF_SPEECH),
    "cntlist.rev",
    "index.sense",
)

#: The lexicographer files of WordNet 3.0 in file-number order (lexnames(5WN)).
LEXICOGRAPHER_FILES = (
    "adj.all", "adj.pert", "adv.all",
    "noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute", "noun.body",
    "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food",
    "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
    "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity",
    "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
)  # fmt: skip

_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def lexnames_text() -> str:
    """The content of WordNet's ``lexnames`` file: ``NN<TAB>name<TAB>category`` lines."""
    return "".join(
        f"{number:02d}\t{name}\t{_CATEGORY[name.split('.')[0]]}\n"
        for number, name in enumerate(LEXICOGRAPHER_FILES)
    )


def count_synsets(directory: Path) -> int:
    """Synsets in the ``data.*`` files: lines that do not start with a space (the licence)."""
    total = 0
    for pos in PARTS_OF_SPEECH:
        with (directory / f"data.{pos}").open(encoding="utf-8") as lines:
            total += sum(1 for line in lines if line.strip() and not line.startswith(" "))
    return total


def convert_wordnet(source_dirs: list[Path], out: Path, synsets: int | None = SYNSETS) -> None:
    """Copy the WordNet database files from ``source_dirs`` into ``out`` and write ``lexnames``.

    Args:
        source_dirs: directories holding the database files (``usr/share/wordnet`` of each
            package); every file of :data:`DATABASE_FILES` must be in one of them.
        out: the output directory.
        synsets: the number of synsets the data files must hold, or ``None`` not to check.

    Raises:
        DataFormatError: a database file is missing, or the synset count differs.
    """
    for name in DATABASE_FILES:
        found = [d / name for d in source_dirs if (d / name).is_file()]
        if not found:
            raise DataFormatError(source_dirs[0] / name, "missing WordNet database file")
        with atomic_path(out / name) as tmp:
            shutil.copyfile(found[0], tmp)
    write_text(out / "lexnames", lexnames_text())
    if synsets is not None and (got := count_synsets(out)) != synsets:
        message = f"the data files hold {got} synsets, WordNet 3.0 has {synsets}"
        raise DataFormatError(out / "data.noun", message)


@functools.cache
def _classes() -> tuple[type[Any], type[Any]]:
    """The reader and lemmatizer classes; built on first use, since importing NLTK is slow."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    from nltk.stem import WordNetLemmatizer

    class DirectoryWordNet(WordNetCorpusReader):  # type: ignore[misc]
        """A reader of one WordNet directory that needs nothing from NLTK's data.

        NLTK's constructor maps synsets from NLTK's own ``wordnet`` corpus to the loaded
        version for the multilingual functions; with no multilingual reader the map is never
        used, and building it would look for NLTK's data.
        """

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    class ReaderLemmatizer(WordNetLemmatizer):  # type: ignore[misc]
        """NLTK's WordNet lemmatizer, reading a given WordNet, not ``nltk.corpus.wordnet``."""

        def __init__(self, wordnet: Any) -> None:
            self.wordnet = wordnet

        def _morphy(self, form: str, pos: str, check_exceptions: bool = True) -> list[str]:
            return list(self.wordnet._morphy(form, pos, check_exceptions))

        def morphy(self, form: str, pos: str | None = None, check_exceptions: bool = True) -> Any:
            return self.wordnet.morphy(form, pos, check_exceptions)

    return DirectoryWordNet, ReaderLemmatizer


def load_wordnet(directory: str | Path) -> Any:
    """Open a WordNet directory (such as the ``wordnet`` data set) with NLTK's reader.

    Returns:
        an ``nltk.corpus.reader.wordnet.WordNetCorpusReader``.

    Raises:
        RnnkitError: the directory is not a WordNet database with a ``lexnames`` file.
    """
    root = Path(directory)
    needed = (*DATABASE_FILES[:-2], "lexnames")  # cntlist.rev and index.sense load lazily
    missing = [n for n in needed if not (root / n).is_file()]
    if missing:
        raise RnnkitError(f"{root}: not a WordNet directory (missing {', '.join(missing)})")
    reader_class = _classes()[0]
    _allow_directory(root)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The multilingual functions")
        return reader_class(str(root), None)


def _allow_directory(root: Path) -> None:
    """Add ``root`` to ``nltk.data.path``: NLTK ≥ 3.9.3 opens corpus files only under it."""
    import nltk.data

    resolved = str(root.resolve())
    if resolved not in nltk.data.path:
        nltk.data.path.append(resolved)


def wordnet_lemmatizer(wordnet: Any) -> Any:
    """An ``nltk.stem.WordNetLemmatizer`` over a WordNet directory or an opened reader.

    ``wordnet_lemmatizer(fetch("wordnet")).lemmatize("geese")`` → ``"goose"``.
    """
    reader = load_wordnet(wordnet) if isinstance(wordnet, str | Path) else wordnet
    return _classes()[1](reader)


def _convert(roots: list[Path], out: Path) -> None:
    base = locate(roots[0], "wordnet/data.noun").parent
    sense = locate(roots[1], "wordnet/index.sense").parent
    convert_wordnet([base, sense], out, synsets=SYNSETS)


DATASETS = (
    Dataset(
        name="wordnet",
        task="resource",
        description="WordNet 3.0 database for NLTK's WordNetCorpusReader and WordNetLemmatizer",
        packages=(BASE, SENSE_INDEX),
        size="117,659 synsets",
        licence="WordNet 3.0 licence (Princeton; free use, keep the copyright notice)",
        splits=(),
        convert=_convert,
    ),
)
