"""A rich progress bar: epoch, steps, loss and speed; a summary line after each epoch."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

import torch
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from rnnkit.training.callbacks import Callback

if TYPE_CHECKING:
    from rnnkit.training.trainer import Trainer

__all__ = ["ProgressBar"]


class ProgressBar(Callback):
    """Shows training progress on the terminal.

    Args:
        enabled: ``None`` (default) shows the bar only when the console is a terminal, so logs of
            batch jobs stay clean; ``True`` or ``False`` forces it.
        console: where to draw (default: standard error).
        refresh_every: steps between updates of the loss and speed (each reads the loss from the
            device).
    """

    order: ClassVar[int] = -40

    def __init__(
        self, enabled: bool | None = None, console: Console | None = None, refresh_every: int = 10
    ) -> None:
        self.enabled = enabled
        self.console = console
        self.refresh_every = max(1, refresh_every)
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._items = 0
        self._t0 = 0.0

    def on_fit_start(self, trainer: Trainer) -> None:
        console = self.console or Console(stderr=True)
        if not (console.is_terminal if self.enabled is None else self.enabled):
            return
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[speed]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self._progress.start()

    def on_epoch_start(self, trainer: Trainer) -> None:
        if self._progress is None:
            return
        self._task = self._progress.add_task(
            f"epoch {trainer.state.epoch + 1}/{trainer.max_epochs}",
            total=trainer.steps_per_epoch,
            completed=trainer.state.step_in_epoch,
            loss="-",
            speed="",
        )
        self._items, self._t0 = 0, time.perf_counter()

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        if self._progress is None or self._task is None:
            return
        self._items += count
        self._progress.advance(self._task)
        if trainer.state.global_step % self.refresh_every == 0:
            speed = f"{self._speed():,.0f} {trainer.count_unit}/s"
            self._progress.update(self._task, loss=f"{loss.item():.4f}", speed=speed)

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        if self._progress is None or self._task is None:
            return
        self._progress.remove_task(self._task)
        self._task = None
        last = trainer.state.history[-1]
        parts = [f"epoch {last['epoch']}: train loss {last['train_loss']:.4f}"]
        parts += [f"dev {k} {v:.4f}" for k, v in metrics.items()]
        parts.append(f"lr {trainer.lr:.3g}")
        parts.append(f"{self._speed():,.0f} {trainer.count_unit}/s")
        self._progress.console.print(", ".join(parts), highlight=False)

    def _speed(self) -> float:
        return self._items / max(time.perf_counter() - self._t0, 1e-9)

    def on_teardown(self, trainer: Trainer) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
