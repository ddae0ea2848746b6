"""``emb-eval``: word-embedding test sets, as shipped in gensim's test data.

- ``questions-words.txt``: Mikolov et al. (2013) analogies, 19,544 questions in 14 sections
  (``: section`` header lines);
- ``wordsim353.tsv``: WordSim-353 (Finkelstein et al., 2002), 353 pairs with human scores;
- ``simlex999.txt``: SimLex-999 (Hill et al., 2015), 999 pairs with human scores.

Only these three files of the gensim 4.4.0 wheel are copied, byte for byte, after counting
their items so that a changed file is caught. gensim ships only platform wheels, so the wheel
is pinned to one (CPython 3.11, manylinux x86-64) whatever machine fetches it; the test files
are the same in all of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError
from rnnkit.fileio import atomic_path

PACKAGE = Package(
    "pip",
    "gensim",
    "4.4.0",
    "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
    extra_args=(
        "--only-binary=:all:",
        "--platform=manylinux_2_28_x86_64",
        "--python-version=3.11",
        "--implementation=cp",
        "--abi=cp311",
    ),
)

#: file name → number of items (non-comment, non-header lines) it must hold
FILES = {"questions-words.txt": 19544, "wordsim353.tsv": 353, "simlex999.txt": 999}


def count_items(path: Path) -> int:
    """Non-empty lines that are neither ``#`` comments nor ``:`` section headers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if line.strip() and not line.startswith(("#", ":")))


def convert_emb_eval(roots: list[Path], out: Path) -> None:
    """Copy the three test files from gensim's ``test/test_data`` into ``out``."""
    for name, expected in FILES.items():
        source = locate(roots[0], f"gensim/test/test_data/{name}")
        got = count_items(source)
        if got != expected:
            raise DataFormatError(source, f"expected {expected} items, found {got}")
        with atomic_path(out / name) as tmp:
            shutil.copyfile(source, tmp)


DATASETS = (
    Dataset(
        name="emb-eval",
        task="resource",
        description="word-embedding tests: Google analogies, WordSim-353, SimLex-999",
        packages=(PACKAGE,),
        size="19,544 analogies (14 sections); 353 and 999 scored pairs",
        licence="gensim LGPL-2.1; each test set carries its authors' terms",
        splits=(),
        convert=convert_emb_eval,
    ),
)
