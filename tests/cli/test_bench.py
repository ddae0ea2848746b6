"""``rnnkit bench`` through the command line: the JSON of every task, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main
from tests.inference.test_bench import TASKS, save_tiny_runs


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return save_tiny_runs(tmp_path_factory.mktemp("cli-bench"))


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rnnkit.inference.bench.SINGLE_ITEMS", 3)
    monkeypatch.setattr("rnnkit.inference.bench.BATCHED_RUNS", 1)


@pytest.mark.parametrize("task", TASKS)
def test_bench_json_keys_and_types(
    runs: dict[str, Path], task: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "in.txt"
    data.write_text("the cat\nthe dog runs on a mat\n", encoding="utf-8")
    code, out, _ = run(["bench", str(runs[task]), "--data", str(data), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"format", "task", "batched", "single", "peak_rss_mb"}
    assert set(doc["batched"]) == {"items_per_s", "tokens_per_s"}
    assert set(doc["single"]) == {"p50_ms", "p95_ms"}
    numbers = [*doc["batched"].values(), *doc["single"].values(), doc["peak_rss_mb"]]
    assert all(isinstance(x, float) and x > 0 for x in numbers)
    assert (doc["task"], doc["format"]) == (task, "torch")


def test_bench_table_with_the_built_in_sample(
    runs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["bench", str(runs["translate"]), "--beam", "2", "--threads", "1"], capsys)
    assert code == 0 and "on 256 inputs" in out and "tokens/s" in out and "p95" in out


def test_bench_bad_input_exits_2_with_one_line(
    runs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["bench", str(tmp_path / "nope"), "--json"], capsys)
    assert (
        code == 2
        and out == ""
        and err
        == f"rnnkit: error: {tmp_path / 'nope'}: " + ("not a run directory (no such directory)\n")
    )
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine\nstill fine\nbad \xc3(\n")
    code, out, err = run(["bench", str(runs["classify"]), "--data", str(bad)], capsys)
    assert code == 2 and out == "" and err.startswith(f"rnnkit: error: {bad}:3: invalid UTF-8")
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("a\tb\nno tab here\n", encoding="utf-8")
    code, _, err = run(["bench", str(runs["translate"]), "--data", str(tsv)], capsys)
    assert code == 2 and err.startswith(f"rnnkit: error: {tsv}:2: expected source<TAB>target")
    code, _, err = run(["bench", str(runs["tag"]), "--beam", "3"], capsys)
    assert code == 2 and "--beam applies to translate runs only" in err
