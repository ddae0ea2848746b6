"""What every ``rnnkit train TASK`` shares: the shortcut flags (``--epochs``, ``--batch-size``,
``--lr``, ``--device``, ``--threads``, ``--seed``), checks before any work, and Ctrl-C."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from rnnkit.cli import main
from rnnkit.training.checkpoint import CHECKPOINT_FILE, has_checkpoint
from rnnkit.training.train_log import read_log

POS = str(Path(__file__).parent.parent / "fixtures" / "tagging" / "pos.conll")
#: Each task's command and the library function it calls.
TASKS = [
    ("classify", "rnnkit.models.classify", "train_classifier"),
    ("tag", "rnnkit.models.tag", "train_tagger"),
    ("lm", "rnnkit.models.lm", "train_lm"),
    ("translate", "rnnkit.models.translate", "train_translator"),
]


class Called(Exception):
    """Raised by the stand-in for a task's training function, carrying what it was given."""

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__("called")
        self.cfg, self.seed = args[3], args[4]


def _stand_in(*args: Any, **kwargs: Any) -> None:
    raise Called(args, kwargs)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def train_argv(task: str, out: Path, *extra: str) -> list[str]:
    return ["train", task, "--train", POS, "--dev", POS, "--out", str(out), *extra]


def called_with(
    task: str, module: str, function: str, argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> Called:
    """What ``rnnkit train TASK argv`` passes to the library (which is not run)."""
    monkeypatch.setattr(f"{module}.{function}", _stand_in)
    with pytest.raises(Called) as called:
        main(argv)
    return called.value


@pytest.mark.parametrize(("task", "module", "function"), TASKS)
def test_shortcut_flags_become_config_values(
    task: str, module: str, function: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = ["--epochs", "3", "--batch-size", "5", "--lr", "0.0125", "--device", "cpu"]
    argv = train_argv(task, tmp_path / "run", *flags, "--threads", "1", "--seed", "7")
    called = called_with(task, module, function, argv, monkeypatch)
    cfg = called.cfg
    assert cfg.train.max_epochs == 3 and cfg.data.batch_size == 5
    assert cfg.train.optim.lr == 0.0125 and cfg.train.device == "cpu"
    assert cfg.train.threads == 1 and cfg.train.seed == 7 and called.seed == 7


@pytest.mark.parametrize(("task", "module", "function"), TASKS)
def test_set_train_seed_is_the_seed_without_seed_flag(
    task: str, module: str, function: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = train_argv(task, tmp_path / "run", "--set", "train.seed=5")
    called = called_with(task, module, function, argv, monkeypatch)
    assert called.seed == 5 and called.cfg.train.seed == 5
    called = called_with(task, module, function, train_argv(task, tmp_path / "r"), monkeypatch)
    assert called.seed == 0 and called.cfg.train.seed == 0


@pytest.mark.parametrize("task", [t[0] for t in TASKS])
@pytest.mark.parametrize(
    ("flag", "value", "key"),
    [
        ("--epochs", "3", "train.max_epochs"),
        ("--batch-size", "4", "data.batch_size"),
        ("--lr", "0.1", "train.optim.lr"),
        ("--device", "cpu", "train.device"),
        ("--threads", "1", "train.threads"),
        ("--seed", "4", "train.seed"),
    ],
)
def test_flag_with_its_own_set_key_is_an_error(
    task: str, flag: str, value: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = train_argv(task, tmp_path / "run", flag, value, "--set", f"{key}={value}")
    code, _, err = run(argv, capsys)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"rnnkit: error: {flag} and --set {key} both given")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("how", [["--device", "cuda"], ["--set", "train.device=cuda:0"]])
def test_cuda_without_cuda_fails_before_writing(
    how: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run(train_argv("tag", tmp_path / "run", *how), capsys)
    assert code == 2 and err.count("\n") == 1
    assert "CUDA is not available" in err
    assert not (tmp_path / "run").exists()


def test_keyboard_interrupt_says_how_to_continue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnkit.models.tag.train_tagger", interrupted)
    out = tmp_path / "my run"
    argv = train_argv("tag", out, "--epochs", "2")
    code, _, err = run(argv, capsys)  # before any checkpoint: the same command starts again
    assert code == 130
    command = shlex.join(["rnnkit", *argv])
    assert err == f"rnnkit: interrupted before the first checkpoint; start again with: {command}\n"
    out.mkdir()
    (out / CHECKPOINT_FILE).write_text("{}", encoding="utf-8")
    code, _, err = run(argv, capsys)
    assert code == 130
    assert err == f"rnnkit: interrupted; continue with: {command} --resume\n"
    code, _, err = run([*argv, "--resume"], capsys)
    assert code == 130 and err == f"rnnkit: interrupted; continue with: {command} --resume\n"


def test_keyboard_interrupt_elsewhere_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("rnnkit.data.stats.file_stats", interrupted)
    code, _, err = run(["data", "check", POS], capsys)
    assert code == 130 and err == "rnnkit: interrupted\n"


def _checkpoint_written(out: Path, process: subprocess.Popen[str], timeout: float) -> bool:
    """Whether ``out`` holds a checkpoint and ``train_log.jsonl`` an epoch before ``timeout``."""
    log = out / "train_log.jsonl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if has_checkpoint(out) and log.exists() and '"kind": "epoch"' in log.read_text("utf-8"):
            return True
        time.sleep(0.01)
    return False


def test_ctrl_c_exits_130_with_the_resume_command_and_the_resume_finishes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    argv = [
        *train_argv("tag", out, "--epochs", "30", "--batch-size", "2", "--lr", "0.02"),
        *("--threads", "1", "--device", "cpu", "--seed", "3"),
    ]
    for s in [
        "model.embeddings=none",
        "model.embedding_dim=8",
        "model.hidden_size=8",
        "model.char_size=6",
        "train.early_stopping=none",
        "train.progress=false",
        "train.plots=false",
    ]:
        argv += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    python = [sys.executable, "-m", "rnnkit"]
    process = subprocess.Popen(
        [*python, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert _checkpoint_written(out, process, timeout=120)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    hint = f"rnnkit: interrupted; continue with: {shlex.join(['rnnkit', *argv])} --resume"
    assert err.strip().splitlines()[-1] == hint
    assert not (out / "metrics.json").exists()
    command = shlex.split(hint.partition("continue with: ")[2])
    assert command[0] == "rnnkit"
    resumed = subprocess.run(
        [*python, *command[1:]], capture_output=True, text=True, env=env, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["max_epochs"] == 30 and config["train"]["seed"] == 3
    assert config["data"]["batch_size"] == 2 and config["train"]["optim"]["lr"] == 0.02
    epochs = [r["epoch"] for r in read_log(out / "train_log.jsonl") if r["kind"] == "epoch"]
    assert epochs[-1] == 30 and (out / "metrics.json").exists()


def test_output_redirected_to_a_file_gets_one_progress_line_per_epoch(tmp_path: Path) -> None:
    text = tmp_path / "train.txt"
    text.write_text("the cat sat on the mat\na dog sat on a log\n" * 4, encoding="utf-8")
    argv = [
        "train", "lm", "--train", str(text), "--dev", str(text), "--out", str(tmp_path / "run"),
        "--epochs", "3", "--batch-size", "2", "--threads", "1",
        "--set", "model.embedding_dim=8", "--set", "model.hidden_size=8",
        "--set", "data.bptt=4", "--set", "train.plots=false", "--set", "train.log_every=1000",
    ]  # fmt: skip
    log = tmp_path / "log.txt"
    with log.open("w", encoding="utf-8") as f:
        done = subprocess.run(
            [sys.executable, "-m", "rnnkit", *argv], stdout=f, stderr=subprocess.STDOUT,
            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300,
        )  # fmt: skip
    lines = log.read_text(encoding="utf-8").splitlines()
    assert done.returncode == 0, lines
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    for line in epochs:
        assert "train loss" in line and "dev perplexity" in line and "tokens/s" in line
        assert "elapsed" in line and "ETA" in line
    assert not any("\x1b[" in line for line in lines)  # no terminal codes in a log file
