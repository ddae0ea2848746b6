from pathlib import Path

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.callbacks import Callback, Checkpoint, EarlyStopping, GradientClipping
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig, build_trainer
from rnnkit.training.trainer import Trainer

G = torch.Generator().manual_seed(0)
DATA = [(torch.randn(4, 3, generator=G), torch.randint(0, 2, (4,), generator=G)) for _ in range(6)]


def xent(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    loss: torch.Tensor = torch.nn.functional.cross_entropy(model(x), y)
    return loss


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))


CFG = TrainConfig(
    max_epochs=3,
    optim=OptimConfig("adamw", lr=0.01, weight_decay=0.1),
    schedule=ScheduleConfig("plateau", warmup_steps=3, metric="loss"),
    early_stopping="loss",
    early_stopping_mode="min",
    checkpoint_every=4,
    log_every=2,
    device="cpu",
    progress=False,
)


class Stop(Exception):
    pass


class KillAt(Callback):
    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        if trainer.state.global_step == 10:
            raise Stop


def test_the_standard_run_directory_and_its_resume(tmp_path: Path) -> None:
    def evaluate(m: torch.nn.Module, batches: object) -> dict[str, float]:
        return {"loss": sum(xent(m, b).item() for b in DATA[:2]) / 2}

    ref = build_trainer(model(), CFG, tmp_path / "ref", loss_fn=xent, evaluate_fn=evaluate)
    ref.fit(DATA, DATA[:2])
    names = {p.name for p in (tmp_path / "ref").iterdir()}
    assert {"checkpoint.json", "model.safetensors", "train_log.jsonl", "loss.png"} <= names
    run = tmp_path / "run"
    killed = build_trainer(
        model(), CFG, run, loss_fn=xent, evaluate_fn=evaluate, callbacks=[KillAt()]
    )
    with pytest.raises(Stop):
        killed.fit(DATA, DATA[:2])
    resumed = build_trainer(model(), CFG, run, loss_fn=xent, evaluate_fn=evaluate)
    resumed.fit(DATA, DATA[:2], resume=True)
    for p, q in zip(ref.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(p, q)


def test_callbacks_follow_the_config() -> None:
    def kinds(trainer: Trainer) -> set[str]:
        return {type(cb).__name__ for cb in trainer.callbacks}

    bare = build_trainer(model(), TrainConfig(clip_norm=None, device="cpu"), None)
    assert kinds(bare) == {"LRScheduler", "ProgressBar"}
    full = build_trainer(model(), CFG, "unused-dir")
    assert {
        "GradientClipping",
        "EarlyStopping",
        "JsonlLogger",
        "Checkpoint",
        "PlotCurves",
    } <= kinds(full)
    clip = next(cb for cb in full.callbacks if isinstance(cb, GradientClipping))
    assert clip.max_norm == 5.0
    stop = next(cb for cb in full.callbacks if isinstance(cb, EarlyStopping))
    assert (stop.metric, stop.mode, stop.patience) == ("loss", "min", 3)
    ckpt = next(cb for cb in full.callbacks if isinstance(cb, Checkpoint))
    assert ckpt.every == 4


def test_threads_set_torch_only_when_given() -> None:
    before = torch.get_num_threads()
    try:
        build_trainer(model(), TrainConfig(device="cpu"), None)
        assert torch.get_num_threads() == before
        build_trainer(model(), TrainConfig(device="cpu", threads=1), None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_bad_train_configs() -> None:
    with pytest.raises(ConfigError):
        TrainConfig(max_epochs=0)
    with pytest.raises(ConfigError, match="threads"):
        TrainConfig(threads=0)
    with pytest.raises(ConfigError):
        TrainConfig(early_stopping_mode="up")  # type: ignore[arg-type]
