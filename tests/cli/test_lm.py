"""``rnnkit train lm``, ``rnnkit evaluate`` of an lm run, ``rnnkit generate``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnnkit.cli import main

TINY = [
    "--set", "model.embedding_dim=8", "--set", "model.hidden_size=8",
    "--set", "model.num_layers=1", "--set", "train.max_epochs=1",
    "--set", "train.progress=false", "--set", "train.plots=false",
    "--set", "data.batch_size=2", "--set", "data.bptt=6",
]  # fmt: skip


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lm")
    text = root / "train.txt"
    text.write_text("the cat sat on the mat\n\na dog sat on a log\n" * 8, encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["train", "lm", "--train", str(text), "--dev", str(text), "--out", str(root / "run"),
              "--config", "ptb-small", "--set", "model.softmax=full", *TINY])  # fmt: skip
    assert exc.value.code in (0, None)
    return root


def test_evaluate_prints_perplexity(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["evaluate", str(run_dir / "run"), "--data", str(run_dir / "train.txt"), "--json"], capsys
    )
    assert code == 0
    scores = json.loads(out)
    assert scores["tokens"] == 8 * (7 + 7) and scores["perplexity"] > 1


def test_generate_is_repeatable_and_temperature_zero_is_greedy(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["generate", str(run_dir / "run"), "--prompt", "the cat", "--length", "12"]
    _, first, _ = run([*base, "--seed", "5", "--top-k", "4"], capsys)
    _, second, _ = run([*base, "--seed", "5", "--top-k", "4"], capsys)
    assert first == second and first.startswith("the cat")
    _, zero, _ = run([*base, "--temperature", "0"], capsys)
    _, greedy, _ = run([*base, "--greedy", "--seed", "1"], capsys)
    assert zero == greedy


def test_generate_errors_are_one_line(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["generate", str(run_dir / "run"), "--condition", "pos"], capsys)
    assert code == 2 and "not conditioned" in err
    code, _, err = run(["generate", str(run_dir / "run"), "--top-p", "1.5"], capsys)
    assert code == 2 and "top-p" in err
