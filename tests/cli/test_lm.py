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


def test_the_run_keeps_its_best_dev_epoch_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    from rnnkit.training.train_log import read_log

    rng = random.Random(0)
    words = ["the", "cat", "sat", "on", "mat", "a", "dog", "log", "ran", "far", "big", "red"]
    lines = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(50)]
    train, dev = tmp_path / "train.txt", tmp_path / "dev.txt"
    train.write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")
    dev.write_text("\n".join(" ".join(rng.choice(words[:6]) for _ in range(8)) for _ in lines[:10]))
    out = tmp_path / "run"
    code, _, err = run(
        ["train", "lm", "--train", str(train), "--dev", str(dev), "--out", str(out),
         "--epochs", "8", "--lr", "10", "--batch-size", "4",
         "--set", "model.embedding_dim=16", "--set", "model.hidden_size=32",
         "--set", "model.num_layers=1", "--set", "data.bptt=8", "--set", "train.patience=10",
         "--set", "train.schedule.name=constant", "--set", "train.plots=false"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    dev_ppl = [
        r["dev"]["perplexity"] for r in read_log(out / "train_log.jsonl") if r["kind"] == "epoch"
    ]
    best = min(range(len(dev_ppl)), key=dev_ppl.__getitem__)
    assert len(dev_ppl) == 8 and best < 7 and dev_ppl[7] > dev_ppl[best]  # it got worse
    code, out_json, _ = run(["evaluate", str(out), "--data", str(dev), "--json"], capsys)
    assert json.loads(out_json)["perplexity"] == pytest.approx(dev_ppl[best], rel=1e-4)
