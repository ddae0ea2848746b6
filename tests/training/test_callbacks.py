import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
from rnnkit.training.checkpoint import load_weights
from rnnkit.training.clipping import global_grad_norm
from rnnkit.training.optim import OptimConfig, ScheduleConfig
from rnnkit.training.trainer import MODEL_FILE, Trainer

G = torch.Generator().manual_seed(0)
DATA = [(torch.randn(4, 2, generator=G), torch.randn(4, 1, generator=G)) for _ in range(5)]


def mse(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    loss: torch.Tensor = ((model(x) - y) ** 2).mean()
    return loss


def scripted(values: list[float], name: str = "accuracy") -> Any:
    """An evaluate_fn that returns the next value of ``values`` at each call."""
    it = iter(values)

    def evaluate(model: torch.nn.Module, batches: Iterable[Any]) -> dict[str, float]:
        return {name: next(it)}

    return evaluate


class WeightsAtEpochEnd(Callback):
    def __init__(self) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        self.weights.append({k: v.clone() for k, v in trainer.model.state_dict().items()})


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def linear_trainer(*callbacks: Callback, **kwargs: Any) -> Trainer:
    torch.manual_seed(0)
    return Trainer(
        torch.nn.Linear(2, 1),
        kwargs.pop("optim", OptimConfig("sgd", lr=0.1)),
        loss_fn=mse,
        callbacks=callbacks,
        **kwargs,
    )


@pytest.mark.parametrize("restore_best", [True, False])
def test_early_stopping_stops_and_keeps_the_best_weights(
    tmp_path: Path, restore_best: bool
) -> None:
    spy = WeightsAtEpochEnd()
    stopper = EarlyStopping("accuracy", mode="max", patience=3, restore_best=restore_best)
    trainer = linear_trainer(
        stopper,
        spy,
        evaluate_fn=scripted([0.5, 0.7, 0.6, 0.65, 0.69, 0.9]),
        max_epochs=10,
        run_dir=tmp_path,
    )
    state = trainer.fit(DATA, DATA)
    assert (state.epoch, state.should_stop) == (5, True)  # epochs 3, 4, 5 without improvement
    assert (stopper.best, stopper.best_epoch) == (0.7, 2)
    saved = torch.nn.Linear(2, 1)
    load_weights(saved, tmp_path / MODEL_FILE)
    assert same(saved.state_dict(), spy.weights[1])
    final = spy.weights[1] if restore_best else spy.weights[4]
    assert same(trainer.model.state_dict(), final)
    assert not same(spy.weights[1], spy.weights[4])


def test_early_stopping_in_memory_with_min_mode_and_min_delta() -> None:
    spy = WeightsAtEpochEnd()
    stopper = EarlyStopping("loss", mode="min", patience=2, min_delta=0.05)
    trainer = linear_trainer(
        stopper, spy, evaluate_fn=scripted([1.0, 0.9, 0.88, 0.86, 0.5], "loss"), max_epochs=9
    )
    state = trainer.fit(DATA, DATA)
    assert state.epoch == 4 and stopper.best_epoch == 2  # 0.88 and 0.86 improve by < 0.05
    assert same(trainer.model.state_dict(), spy.weights[1])


def test_early_stopping_in_max_mode_waits_for_a_nonzero_best() -> None:
    stopper = EarlyStopping("f1", mode="max", patience=2)
    values = [0.0] * 6 + [0.3, 0.2, 0.25, 0.9]
    trainer = linear_trainer(stopper, evaluate_fn=scripted(values, "f1"), max_epochs=20)
    state = trainer.fit(DATA, DATA)
    assert (state.epoch, stopper.best, stopper.best_epoch) == (9, 0.3, 7)
    low = EarlyStopping("loss", mode="min", patience=2)  # a loss of 0 is not "nothing yet"
    trainer = linear_trainer(low, evaluate_fn=scripted([0.0] * 5, "loss"), max_epochs=20)
    assert trainer.fit(DATA, DATA).epoch == 3


def test_early_stopping_needs_its_metric_and_sane_settings() -> None:
    trainer = linear_trainer(EarlyStopping("f1"), evaluate_fn=scripted([1.0], "accuracy"))
    with pytest.raises(ConfigError, match="'f1'"):
        trainer.fit(DATA, DATA)
    with pytest.raises(ConfigError, match="mode"):
        EarlyStopping("f1", mode="up")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="patience"):
        EarlyStopping("f1", patience=0)


class GradSpy(Callback):
    def __init__(self, order: int) -> None:
        self.order = order  # type: ignore[misc]
        self.norms: list[float] = []

    def on_after_backward(self, trainer: Trainer) -> None:
        self.norms.append(global_grad_norm(list(trainer.model.parameters())).item())


def test_gradient_clipping_between_backward_and_step() -> None:
    before, after = GradSpy(order=-1), GradSpy(order=1)
    published: list[float] = []

    class Published(Callback):
        def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
            published.append(trainer.scalars["grad_norm"].item())

    trainer = linear_trainer(
        GradientClipping(max_norm=0.3, max_value=1.0), before, after, Published(), max_epochs=2
    )
    trainer.fit([(x, 10 * y) for x, y in DATA])
    assert max(before.norms) > 0.3  # the test exercises clipping
    for b, a, p in zip(before.norms, after.norms, published, strict=True):
        assert a == pytest.approx(min(p, 0.3), rel=1e-5)
        assert p <= b + 1e-6  # value clipping came first, then the norm was measured
    with pytest.raises(ConfigError):
        GradientClipping()


def test_lr_schedule_drives_the_optimizer() -> None:
    lrs: list[float] = []

    class LrSpy(Callback):
        order = -10  # before the schedule moves on

        def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
            lrs.append(trainer.lr)

    cfg = ScheduleConfig("step", warmup_steps=4, gamma=0.5, step_size=1)
    trainer = linear_trainer(LRScheduler(cfg), LrSpy(), max_epochs=2)
    trainer.fit(DATA)
    expected = [0.1 * min(1, (t + 1) / 4) for t in range(5)] + [0.05] * 5
    assert lrs == pytest.approx(expected, rel=1e-12)
    assert trainer.lr == pytest.approx(0.025)


def test_stlr_schedule_drives_the_optimizer() -> None:
    lrs: list[float] = []

    class LrSpy(Callback):
        order = -10

        def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
            lrs.append(trainer.lr)

    cfg = ScheduleConfig("stlr", cut_frac=0.2, ratio=4.0)
    trainer = linear_trainer(LRScheduler(cfg, total_steps=10), LrSpy(), max_epochs=2)
    trainer.fit(DATA)
    cut, peak = 2, 0.1  # floor(10 * 0.2); the optimizer's lr
    p = [t / cut if t < cut else 1 - (t - cut) / (cut * (1 / 0.2 - 1)) for t in range(11)]
    expected = [peak * (1 + pt * 3) / 4 for pt in p]
    assert lrs == pytest.approx(expected[:10], rel=1e-12)
    assert trainer.lr == pytest.approx(expected[10]) and math.isclose(trainer.lr, peak / 4)
    with pytest.raises(ConfigError, match="total optimizer steps"):
        LRScheduler(cfg)


def test_checkpoint_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved_at: list[tuple[int, int, int]] = []
    original = Trainer.save_checkpoint

    def spy(self: Trainer) -> Path:
        saved_at.append((self.state.epoch, self.state.step_in_epoch, self.state.global_step))
        return original(self)

    monkeypatch.setattr(Trainer, "save_checkpoint", spy)
    linear_trainer(Checkpoint(every=3), max_epochs=2, run_dir=tmp_path / "a").fit(DATA)
    assert saved_at == [(0, 3, 3), (1, 0, 5), (1, 1, 6), (1, 4, 9), (2, 0, 10)]
    saved_at.clear()
    linear_trainer(Checkpoint(), max_epochs=2, max_steps=7, run_dir=tmp_path / "b").fit(DATA)
    assert saved_at == [(1, 0, 5), (1, 2, 7)]  # also when max_steps stops the run


def test_checkpoint_needs_a_run_dir() -> None:
    with pytest.raises(ConfigError, match="run_dir"):
        linear_trainer(Checkpoint(every=2)).fit(DATA)
    with pytest.raises(ConfigError, match=">= 1"):
        Checkpoint(every=0)


def test_hooks_run_in_order_and_teardown_runs_after_errors() -> None:
    calls: list[str] = []

    class Recorder(Callback):
        def __init__(self, name: str, order: int, fail: bool = False) -> None:
            self.name, self.fail = name, fail
            self.order = order  # type: ignore[misc]

        def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
            calls.append(self.name)
            if self.fail:
                raise RuntimeError("boom")

        def on_teardown(self, trainer: Trainer) -> None:
            calls.append(f"teardown {self.name}")

    trainer = linear_trainer(Recorder("late", 5), Recorder("early", -5, fail=True))
    with pytest.raises(RuntimeError, match="boom"):
        trainer.fit(DATA)
    assert calls == ["early", "teardown early", "teardown late"]


def test_tensorboard_writes_loss_lr_grad_norm_and_dev_metrics(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import (  # type: ignore[import-untyped]
        EventAccumulator,
    )

    from rnnkit.training.callbacks import GradientClipping, TensorBoardLogger

    data = [torch.randn(3, 2) for _ in range(4)]
    trainer = Trainer(
        torch.nn.Linear(2, 1),
        OptimConfig("sgd", lr=0.01),
        loss_fn=lambda m, x: m(x).pow(2).mean(),
        evaluate_fn=lambda m, b: {"accuracy": 0.25},
        callbacks=[TensorBoardLogger(every=2), GradientClipping(max_norm=1.0)],
        max_epochs=2,
        run_dir=tmp_path,
    )
    trainer.fit(data, data[:1])
    events = EventAccumulator(str(tmp_path / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train/grad_norm", "dev/accuracy"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4, 6, 8]
    assert [e.value for e in events.Scalars("dev/accuracy")] == [0.25, 0.25]
    assert events.Scalars("train/lr")[0].value == pytest.approx(0.01)
