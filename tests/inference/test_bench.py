"""rnnkit.inference.bench on tiny run directories of every task."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.inference.bench import SAMPLE_TEXTS, bench, bench_inputs
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.common.artifact import run_format
from tests.models.classify.test_artifact import make_texts, train_small
from tests.models.lm.test_artifact import make as make_lm
from tests.models.tag.test_artifact import make_tagger
from tests.models.translate.test_artifact import _translator

TASKS = ("classify", "tag", "translate", "lm")


def save_tiny_runs(root: Path) -> dict[str, Path]:
    """An untrained-or-barely-trained run directory of each task under ``root``."""
    texts, labels = make_texts(20)
    train_small(ClassifierConfig(embedding_dim=8, hidden_size=6), texts, labels, steps=1).save(
        root / "classify"
    )
    make_tagger("crf").save(root / "tag")
    _translator().save(root / "translate")
    make_lm().save(root / "lm")
    return {task: root / task for task in TASKS}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return save_tiny_runs(tmp_path_factory.mktemp("bench"))


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rnnkit.inference.bench.SINGLE_ITEMS", 5)
    monkeypatch.setattr("rnnkit.inference.bench.BATCHED_RUNS", 1)


@pytest.mark.parametrize("task", TASKS)
def test_bench_measures_every_task(runs: dict[str, Path], task: str, tmp_path: Path) -> None:
    data = tmp_path / "inputs.txt"
    data.write_text("the dog runs\n\nthe cat sleeps on a mat\n", encoding="utf-8")
    result = bench(runs[task], data, threads=1, batch_size=4)
    assert (result.task, result.format, result.items) == (task, "torch", 2)
    assert result.tokens == {"lm": 40, "classify": 9, "tag": 9, "translate": 9}[task]
    assert result.items_per_s > 0 and result.tokens_per_s > result.items_per_s
    assert 0 < result.p50_ms <= result.p95_ms and result.peak_rss_mb > 10
    doc = result.to_json()
    assert set(doc) == {"format", "task", "batched", "single", "peak_rss_mb"}


def test_bench_inputs_of_each_format(tmp_path: Path) -> None:
    assert bench_inputs("classify", None) == list(SAMPLE_TEXTS) and len(SAMPLE_TEXTS) == 256
    assert {len(t.split()) for t in SAMPLE_TEXTS} == set(range(3, 41))
    conll = tmp_path / "s.conll"
    conll.write_text("I\tPRON\nrun\tVERB\n\nGo\tVERB\n", encoding="utf-8")
    assert bench_inputs("tag", conll) == [["I", "run"], ["Go"]]
    with pytest.raises(DataFormatError, match="inputs of a tagger"):
        bench_inputs("classify", conll)
    tsv = tmp_path / "p.tsv"
    tsv.write_text("a b\tc\nd\te\n", encoding="utf-8")
    assert bench_inputs("translate", tsv) == ["a b", "d"]
    tsv.write_text("a b\tc\nd e\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"p\.tsv:2: expected source<TAB>target"):
        bench_inputs("translate", tsv)


def test_bench_of_tagger_on_conll_and_translator_with_beam(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    conll = tmp_path / "s.conll"
    conll.write_text("The\tDET\ndog\tNOUN\n\nShe\tPRON\nsings\tVERB\n.\t.\n", encoding="utf-8")
    assert bench(runs["tag"], conll).tokens == 5
    assert bench(runs["translate"], None, beam=2).items == 256


def test_bench_refuses_bad_options_and_directories(runs: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--beam"):
        bench(runs["tag"], beam=2)
    with pytest.raises(ConfigError, match="threads"):
        bench(runs["tag"], threads=0)
    with pytest.raises(RnnkitError, match="not a run directory"):
        bench(tmp_path / "missing")
    assert run_format({"export": {"format": "int8"}}) == "int8" and run_format({}) == "torch"
