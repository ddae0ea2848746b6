"""Kill-and-resume for the tests of every task: a run killed right after an epoch's checkpoint
(as ``kill -9`` would leave it) and resumed must end with the uninterrupted run's weights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rnnkit.fileio import read_json
from rnnkit.training.callbacks import Checkpoint


class Killed(BaseException):
    """Raised where the process would have died (not an ``Exception``: nothing may catch it)."""


def kill_after_epochs(monkeypatch: pytest.MonkeyPatch, epochs: int) -> None:
    """Make the ``epochs``-th epoch end, counted over every step of a plan, die right after its
    checkpoint is written."""
    seen = {"n": 0}
    original = Checkpoint.on_epoch_end

    def on_epoch_end(self: Checkpoint, trainer: Any, metrics: dict[str, float]) -> None:
        original(self, trainer, metrics)
        seen["n"] += 1
        if seen["n"] == epochs:
            raise Killed

    monkeypatch.setattr(Checkpoint, "on_epoch_end", on_epoch_end)


def kill_after_steps(monkeypatch: pytest.MonkeyPatch, steps: int) -> None:
    """Make the run die right after the checkpoint of optimizer step ``steps`` (mid-epoch when
    ``train.checkpoint_every`` divides it)."""
    original = Checkpoint.on_step_end

    def on_step_end(self: Checkpoint, trainer: Any, loss: Any, count: int) -> None:
        original(self, trainer, loss, count)
        if trainer.state.global_step == steps:
            raise Killed

    monkeypatch.setattr(Checkpoint, "on_step_end", on_step_end)


def best_and_last_epoch(run_dir: Path) -> tuple[int, int]:
    """Early stopping's best epoch and the last epoch of a finished single-step run."""
    ckpt = read_json(run_dir / "checkpoint.json")["state"]
    return int(ckpt["callbacks"]["EarlyStopping"]["best_epoch"]), int(ckpt["trainer"]["epoch"])


def assert_resumes_exactly(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    train: Callable[[Path, bool], Any],
    kill_epoch: int,
) -> None:
    """Train whole, train again killed after ``kill_epoch`` epochs, resume: the weights files
    must be byte-identical."""
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    train(whole, False)
    with monkeypatch.context() as patch:
        kill_after_epochs(patch, kill_epoch)
        with pytest.raises(Killed):
            train(killed, False)
    train(killed, True)
    weights = "model.safetensors"
    assert (killed / weights).read_bytes() == (whole / weights).read_bytes()
