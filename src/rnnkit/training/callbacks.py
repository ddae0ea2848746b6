"""The callback protocol and the small callbacks: clipping, schedules, early stopping, checkpoints.

A callback subclasses :class:`Callback` and overrides the hooks it needs. The Trainer calls them in
the order of ``order`` (lower first; the log at -50, plots at 95, checkpoints last at 100), so that
a checkpoint taken in a hook sees the other callbacks' updates of that hook. A callback whose
behaviour depends on the past returns it from :meth:`Callback.state_dict` (JSON-able values and
tensors) and takes it back in :meth:`Callback.load_state_dict` when a run resumes.

For exact resumption, hooks must not draw from the global random generators (Python's
``random``, NumPy's, PyTorch's), except ``on_fit_start``, which runs before they are seeded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import torch

from rnnkit.errors import ConfigError
from rnnkit.training.checkpoint import load_weights, save_weights
from rnnkit.training.clipping import clip_grad_value_, clip_norm_tensor_
from rnnkit.training.optim import (
    LRSchedule,
    ScheduleConfig,
    build_scheduler,
    check_total_steps,
)

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

    from rnnkit.training.trainer import Trainer

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GradientClipping",
    "LRScheduler",
    "TensorBoardLogger",
]


class Callback:
    """Base class of the Trainer's hooks; every hook does nothing unless overridden."""

    order: ClassVar[int] = 0
    saves_model: ClassVar[bool] = False
    """True for a callback that writes ``model.safetensors`` itself (the Trainer then does not)."""
    main_only: ClassVar[bool] = False
    """True for a callback that only writes or shows (the log, plots, the progress bar): in a
    data-parallel run only rank 0 runs it."""
    per_rank: ClassVar[bool] = False
    """True for a callback whose state differs between the ranks of a data-parallel run (the
    language model's carried state): checkpoints keep each rank's."""

    def on_fit_start(self, trainer: Trainer) -> None:
        """Before training (and before a resumed run's state is loaded)."""

    def on_epoch_start(self, trainer: Trainer) -> None:
        """Before the first batch of an epoch (also of a resumed, half-done one)."""

    def on_after_backward(self, trainer: Trainer) -> None:
        """Between ``loss.backward()`` and ``optimizer.step()``: gradients are in ``.grad``."""

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        """After an optimizer step; ``loss`` is detached and 0-dim, ``count`` the batch's items."""

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        """After an epoch and its evaluation; ``metrics`` are the dev metrics (maybe empty)."""

    def on_fit_end(self, trainer: Trainer) -> None:
        """After training ended normally."""

    def on_teardown(self, trainer: Trainer) -> None:
        """Always last, also when training raised: release resources here."""

    def state_dict(self) -> dict[str, Any]:
        """What a resumed run needs to continue as this one would."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back a state from :meth:`state_dict` (called after :meth:`on_fit_start`)."""


class GradientClipping(Callback):
    """Clips gradients between backward and step: by global norm (Pascanu et al. 2013) and/or value.

    The pre-clip global norm is published as ``trainer.scalars["grad_norm"]`` for the log.

    Args:
        max_norm: rescale to this norm when the global norm reaches it (``None``: off).
        max_value: clamp each element to ``[-max_value, max_value]`` (``None``: off).
    """

    def __init__(self, max_norm: float | None = None, max_value: float | None = None) -> None:
        if max_norm is None and max_value is None:
            raise ConfigError("GradientClipping needs max_norm or max_value")
        self.max_norm = max_norm
        self.max_value = max_value

    def on_after_backward(self, trainer: Trainer) -> None:
        params = [p for p in trainer.model.parameters() if p.grad is not None]
        if self.max_value is not None:
            clip_grad_value_(params, self.max_value)
        if self.max_norm is not None:
            trainer.scalars["grad_norm"] = clip_norm_tensor_(params, self.max_norm)


class LRScheduler(Callback):
    """Drives the learning rate with an :class:`LRSchedule` built from ``cfg`` at fit start.

    Args:
        cfg: the schedule.
        total_steps: the run's optimizer steps in all; ``"stlr"`` needs it (checked here, so
            that a missing one fails when the Trainer is built, not when it starts).
    """

    def __init__(self, cfg: ScheduleConfig, total_steps: int | None = None) -> None:
        check_total_steps(cfg, total_steps)
        self.cfg = cfg
        self.total_steps = total_steps
        self.schedule: LRSchedule | None = None

    def on_fit_start(self, trainer: Trainer) -> None:
        self.schedule = build_scheduler(trainer.optimizer, self.cfg, self.total_steps)

    def _get(self) -> LRSchedule:
        if self.schedule is None:
            raise RuntimeError("LRScheduler used before on_fit_start")
        return self.schedule

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        self._get().step()

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        self._get().epoch_end(metrics)

    def state_dict(self) -> dict[str, Any]:
        return self._get().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._get().load_state_dict(state)


class EarlyStopping(Callback):
    """Stops training when a dev metric has not improved for ``patience`` epochs.

    In mode ``"max"`` an epoch does not count against ``patience`` while the best value is
    still 0: a tagger's F1 stays at 0 for the first epochs while it predicts only ``O`` (the
    majority tag), and stopping then would end a run that has not started to learn.

    The weights of the best epoch are written to ``model.safetensors`` in the run directory (kept
    in memory without one) and, with ``restore_best``, loaded back into the model at the end.

    Args:
        metric: the dev metric to watch (a key of the evaluation's dict).
        mode: ``"max"`` (accuracy, F1) or ``"min"`` (loss, perplexity).
        patience: the run stops after this many epochs in a row without improvement.
        min_delta: an improvement must exceed this.
        restore_best: load the best weights into the model when training ends.
    """

    saves_model: ClassVar[bool] = True

    def __init__(
        self,
        metric: str,
        mode: Literal["min", "max"] = "max",
        patience: int = 3,
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        if mode not in ("min", "max"):
            raise ConfigError(f"early stopping mode must be 'min' or 'max', got {mode!r}")
        if patience < 1 or min_delta < 0:
            raise ConfigError(f"need patience >= 1 and min_delta >= 0: {patience}, {min_delta}")
        self.metric = metric
        self.mode = mode
        self.patience = patience
        self.min_delta = min_delta
        self.restore_best = restore_best
        self.best: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self._best_weights: dict[str, torch.Tensor] | None = None

    def improves(self, value: float) -> bool:
        """Whether ``value`` beats the best so far by more than ``min_delta``."""
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        if self.metric not in metrics:
            known = sorted(metrics) if metrics else "none (no dev data?)"
            raise ConfigError(f"early stopping watches dev metric {self.metric!r}; got {known}")
        value = metrics[self.metric]
        if self.improves(value):
            self.best, self.best_epoch, self.bad_epochs = value, trainer.state.epoch, 0
            self._save_best(trainer)
            return
        if self.mode == "max" and self.best == 0.0:
            return  # nothing learnt yet: no epoch counts against patience
        self.bad_epochs += 1
        if self.bad_epochs >= self.patience:
            trainer.state.should_stop = True

    def _save_best(self, trainer: Trainer) -> None:
        if trainer.run_dir is None:
            self._best_weights = {
                k: v.detach().clone() for k, v in trainer.model.state_dict().items()
            }
        elif trainer.writes:  # a data-parallel run's other ranks get rank 0's at the end
            save_weights(trainer.model, trainer.run_dir / "model.safetensors")

    def on_fit_end(self, trainer: Trainer) -> None:
        if not self.restore_best or self.best is None:
            return
        if trainer.run_dir is None:
            if self._best_weights is not None:
                trainer.model.load_state_dict(self._best_weights)
        elif trainer.writes:
            load_weights(trainer.model, trainer.run_dir / "model.safetensors")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = state["best"]
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])


class Checkpoint(Callback):
    """Writes a checkpoint every ``every`` steps, at every epoch end, and when the run stops early.

    Runs last (``order`` 100) so that the checkpoint holds the other callbacks' updates. Only the
    latest checkpoint is kept; the best weights are ``EarlyStopping``'s ``model.safetensors``.
    """

    order: ClassVar[int] = 100

    def __init__(self, every: int | None = None) -> None:
        if every is not None and every < 1:
            raise ConfigError(f"checkpoint interval must be >= 1 step, got {every}")
        self.every = every

    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.run_dir is None:
            raise ConfigError("checkpoints need the Trainer's run_dir")

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        due = self.every is not None and trainer.state.global_step % self.every == 0
        if due or trainer.stopping:
            trainer.save_checkpoint()

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        trainer.save_checkpoint()


class TensorBoardLogger(Callback):
    """Writes TensorBoard event files into ``tb/`` of the run directory, beside
    ``train_log.jsonl``, with PyTorch's ``SummaryWriter``: every ``every`` steps the mean
    ``train/loss``, ``train/lr`` and the mean of each scalar other callbacks publish in
    ``trainer.scalars`` (``train/grad_norm``); after each epoch ``epoch/train_loss`` and
    ``dev/<metric>``. The x axis is the optimizer step. A resumed run drops the events the
    interrupted one wrote after its checkpoint (``purge_step``).

    Args:
        every: steps per step record.
        folder: the folder in the run directory.
    """

    order: ClassVar[int] = -45
    main_only: ClassVar[bool] = True

    def __init__(self, every: int = 50, folder: str = "tb") -> None:
        if every < 1:
            raise ConfigError(f"log interval must be >= 1 step, got {every}")
        self.every = every
        self.folder = folder
        self._writer: SummaryWriter | None = None
        self._losses: list[torch.Tensor] = []
        self._scalars: dict[str, list[torch.Tensor]] = {}

    def on_fit_start(self, trainer: Trainer) -> None:
        if trainer.run_dir is None:
            raise ConfigError("train.tensorboard needs the Trainer's run_dir")
        try:
            import torch.utils.tensorboard  # noqa: F401
        except ImportError as err:
            raise ConfigError(
                "train.tensorboard needs the tensorboard package: pip install 'rnnkit[tensorboard]'"
            ) from err

    def _open(self, trainer: Trainer) -> SummaryWriter:
        # opened at the first epoch start, after a resumed run's state is back
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            step = trainer.state.global_step
            log_dir = Path(trainer.run_dir or ".") / self.folder
            self._writer = SummaryWriter(str(log_dir), purge_step=step if step else None)
        return self._writer

    def on_epoch_start(self, trainer: Trainer) -> None:
        self._open(trainer)

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        # read at the interval's end: no host sync per step on a GPU
        self._losses.append(loss)
        for name, value in trainer.scalars.items():
            self._scalars.setdefault(name, []).append(value.detach())
        step = trainer.state.global_step
        if step % self.every:
            return
        writer = self._open(trainer)
        writer.add_scalar("train/loss", torch.stack(self._losses).mean().item(), step)
        writer.add_scalar("train/lr", trainer.lr, step)
        for name, values in self._scalars.items():
            writer.add_scalar(f"train/{name}", torch.stack(values).double().mean().item(), step)
        self._losses, self._scalars = [], {}

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        writer = self._open(trainer)
        step = trainer.state.global_step
        writer.add_scalar("epoch/train_loss", trainer.state.history[-1]["train_loss"], step)
        for name, value in metrics.items():
            writer.add_scalar(f"dev/{name}", value, step)
        writer.flush()

    def on_teardown(self, trainer: Trainer) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
