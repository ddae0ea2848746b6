import json
import math
from pathlib import Path

import pytest
import torch

from rnnkit.errors import DataFormatError
from rnnkit.training.callbacks import Callback, GradientClipping
from rnnkit.training.optim import OptimConfig
from rnnkit.training.train_log import JsonlLogger, read_log
from rnnkit.training.trainer import Trainer

G = torch.Generator().manual_seed(0)
DATA = [(torch.randn(3, 2, generator=G), torch.randn(3, 1, generator=G)) for _ in range(5)]


def mse(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    loss: torch.Tensor = ((model(x) - y) ** 2).mean()
    return loss


class LossSpy(Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        self.losses.append(loss.item())


def test_records_agree_with_the_steps(tmp_path: Path) -> None:
    torch.manual_seed(0)
    spy, logger = LossSpy(), JsonlLogger(every=2)
    trainer = Trainer(
        torch.nn.Linear(2, 1),
        OptimConfig("sgd", lr=0.1),
        loss_fn=mse,
        evaluate_fn=lambda m, b: {"score": 0.5},
        callbacks=[logger, spy, GradientClipping(max_norm=100.0)],
        max_epochs=2,
        run_dir=tmp_path,
    )
    trainer.fit(DATA, DATA)
    records = read_log(tmp_path / "train_log.jsonl")
    assert records == logger.records
    steps = [r for r in records if r["kind"] == "step"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["step"] for r in steps] == [2, 4, 6, 8, 10]
    assert [r["epoch"] for r in steps] == [1, 1, 2, 2, 2]  # epoch in progress, 1-based
    losses = spy.losses
    for r in steps:
        s = r["step"]
        assert r["loss"] == pytest.approx(sum(losses[s - 2 : s]) / 2, rel=1e-12)
        assert r["lr"] == 0.1 and r["examples_per_s"] > 0 and r["grad_norm"] > 0
    assert [(r["epoch"], r["step"]) for r in epochs] == [(1, 5), (2, 10)]
    assert epochs[1]["train_loss"] == pytest.approx(sum(losses[5:]) / 5, rel=1e-12)
    assert epochs[0]["dev"] == {"score": 0.5}
    assert [r["elapsed"] for r in records] == sorted(r["elapsed"] for r in records)


def test_non_finite_values_are_null(tmp_path: Path) -> None:
    def nan_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return mse(model, batch) * math.nan

    trainer = Trainer(
        torch.nn.Linear(2, 1),
        OptimConfig("sgd", lr=0.1),
        loss_fn=nan_loss,
        callbacks=[JsonlLogger(every=5)],
        run_dir=tmp_path,
    )
    trainer.fit(DATA)
    text = (tmp_path / "train_log.jsonl").read_text()
    assert "NaN" not in text
    assert [
        r["loss"] if r["kind"] == "step" else r["train_loss"]
        for r in read_log(tmp_path / "train_log.jsonl")
    ] == [None, None]


def test_resume_cuts_the_log_back_to_the_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "train_log.jsonl"
    lines = [json.dumps({"kind": "step", "step": i}) + "\n" for i in range(1, 6)]
    path.write_text("".join(lines))
    logger = JsonlLogger()
    logger.path = path
    logger.load_state_dict({"lines": 3, "loss_sum": 1.5, "steps": 1, "scalar_sums": {}})
    assert [r["step"] for r in logger.records] == [1, 2, 3]
    logger.flush()
    assert path.read_text() == "".join(lines[:3])
    with pytest.warns(UserWarning, match="holds 3 records"):
        logger.load_state_dict({"lines": 4, "loss_sum": 0.0, "steps": 0, "scalar_sums": {}})


def test_read_log_reports_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n\n[1, 2]\n')
    with pytest.raises(DataFormatError, match=r"log.jsonl:3: not a JSON object"):
        read_log(path)
    path.write_text('{"step": 1}\n{"step": \n')
    with pytest.raises(DataFormatError, match=r"log.jsonl:2:"):
        read_log(path)
