import dataclasses
import math
from pathlib import Path

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.training.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    GradientClipping,
    LRScheduler,
)
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.recipe import TrainConfig, build_trainer, resolve_epochs, resolve_patience
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


# the step budget: max(3, ceil(8 / 6)) = 3 epochs of 6 steps; "stlr" over those 18 steps
STLR_CFG = dataclasses.replace(
    CFG,
    max_epochs=None,
    auto_epochs=3,
    min_steps=8,
    schedule=ScheduleConfig("stlr", cut_frac=0.25, ratio=4.0),
)


@pytest.mark.parametrize("cfg", [CFG, STLR_CFG], ids=["plateau", "stlr-auto-epochs"])
def test_the_standard_run_directory_and_its_resume(tmp_path: Path, cfg: TrainConfig) -> None:
    def evaluate(m: torch.nn.Module, batches: object) -> dict[str, float]:
        return {"loss": sum(xent(m, b).item() for b in DATA[:2]) / 2}

    def build(run: Path, *extra: Callback) -> Trainer:
        return build_trainer(
            model(),
            cfg,
            run,
            loss_fn=xent,
            evaluate_fn=evaluate,
            callbacks=extra,
            steps_per_epoch=len(DATA),
        )

    ref = build(tmp_path / "ref")
    ref.fit(DATA, DATA[:2])
    assert ref.state.global_step == 18
    names = {p.name for p in (tmp_path / "ref").iterdir()}
    assert {"checkpoint.json", "model.safetensors", "train_log.jsonl", "loss.png"} <= names
    run = tmp_path / "run"
    killed = build(run, KillAt())
    with pytest.raises(Stop):
        killed.fit(DATA, DATA[:2])
    resumed = build(run)
    resumed.fit(DATA, DATA[:2], resume=True)
    assert resumed.lr == ref.lr
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
    for bad in ({"auto_epochs": 0}, {"min_steps": -1}, {"patience": 0}, {"max_steps": 0}):
        with pytest.raises(ConfigError):
            TrainConfig(**bad)  # type: ignore[arg-type]
    assert TrainConfig(max_epochs=None, patience=None).max_epochs is None


def test_resolve_epochs_is_a_budget_in_steps() -> None:
    auto = TrainConfig(max_epochs=None)  # auto_epochs 6, min_steps 5000 with pretrained vectors
    assert resolve_epochs(auto, 80, pretrained_words=True) == 63  # 2,000 sentences: ceil(62.5)
    assert resolve_epochs(auto, 2000, pretrained_words=True) == 6  # 50,000: a few passes
    assert resolve_epochs(auto, 834, True) == 6 and resolve_epochs(auto, 833, True) == 7
    assert resolve_epochs(auto, 1, pretrained_words=True) == 5000
    # embeddings from scratch: twice the smallest budget, the same passes over a large set
    assert resolve_epochs(auto, 80) == 125 and resolve_epochs(auto, 2500) == 6
    assert resolve_epochs(TrainConfig(max_epochs=None, min_steps=800), 80) == 10  # as given
    assert resolve_epochs(TrainConfig(max_epochs=None, min_steps=0), 5) == 6
    assert resolve_epochs(TrainConfig(max_epochs=7), 80) == 7  # explicit: as is
    assert resolve_epochs(TrainConfig(max_epochs=7), 10**6) == 7
    with pytest.raises(ConfigError, match="steps_per_epoch"):
        resolve_epochs(auto, 0)


def test_resolve_patience_follows_the_epochs() -> None:
    auto = TrainConfig()
    assert auto.patience is None
    assert [resolve_patience(auto, e) for e in (1, 3, 12, 13, 38)] == [3, 3, 3, 4, 10]
    assert resolve_patience(TrainConfig(patience=2), 38) == 2


def test_build_trainer_resolves_epochs_patience_and_total_steps() -> None:
    def parts(trainer: Trainer) -> tuple[int, int | None, int]:
        sched = next(cb for cb in trainer.callbacks if isinstance(cb, LRScheduler))
        stop = next(cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping))
        return trainer.max_epochs, sched.total_steps, stop.patience

    auto = TrainConfig(max_epochs=None, min_steps=100, early_stopping="f1", device="cpu")
    assert parts(build_trainer(model(), auto, None, steps_per_epoch=6)) == (17, 102, 5)
    capped = dataclasses.replace(auto, max_steps=50)
    assert parts(build_trainer(model(), capped, None, steps_per_epoch=6)) == (17, 50, 5)
    big = build_trainer(model(), auto, None, steps_per_epoch=1000)
    assert parts(big) == (6, 6000, 3)
    explicit = dataclasses.replace(auto, max_epochs=3, patience=2)
    assert parts(build_trainer(model(), explicit, None)) == (3, None, 2)
    assert parts(build_trainer(model(), explicit, None, steps_per_epoch=6)) == (3, 18, 2)
    assert parts(build_trainer(model(), capped, None, steps_per_epoch=6))[1] == 50
    with pytest.raises(ConfigError, match="steps_per_epoch"):
        build_trainer(model(), auto, None)


def test_stlr_in_build_trainer_needs_the_step_count() -> None:
    stlr = TrainConfig(max_epochs=2, schedule=ScheduleConfig("stlr"), device="cpu")
    with pytest.raises(ConfigError, match="total optimizer steps"):
        build_trainer(model(), stlr, None)
    by_max_steps = build_trainer(model(), dataclasses.replace(stlr, max_steps=9), None)
    sched = next(cb for cb in by_max_steps.callbacks if isinstance(cb, LRScheduler))
    assert sched.total_steps == 9


def test_stlr_run_of_auto_epochs_ends_at_the_lowest_rate() -> None:
    cfg = dataclasses.replace(STLR_CFG, early_stopping=None)
    trainer = build_trainer(model(), cfg, None, loss_fn=xent, steps_per_epoch=len(DATA))
    state = trainer.fit(DATA)
    assert (state.epoch, state.global_step, trainer.max_epochs) == (3, 18, 3)
    assert math.isclose(trainer.lr, 0.01 / 4, rel_tol=1e-12)  # lr / ratio after T = 18 steps
