"""Training progress a person can follow anywhere: on a terminal a live rich bar (epoch, steps,
loss, speed) and a summary line after each epoch; elsewhere (a log file, CI, nohup) plain lines,
one every ``log_every`` steps and one per epoch, with loss, dev metrics, speed, elapsed time and
the estimated time left. Plain lines are written as they are, never wrapped by rich, so that a
number is never cut in two."""

from __future__ import annotations

import time
from typing import IO, TYPE_CHECKING, ClassVar

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

from rnnkit.embeddings.progress import hms
from rnnkit.training.callbacks import Callback

if TYPE_CHECKING:
    from rnnkit.training.trainer import Trainer

__all__ = ["ProgressBar"]


class ProgressBar(Callback):
    """Shows training progress: a live bar on a terminal, plain lines elsewhere.

    Args:
        enabled: ``None`` (default): the bar on a terminal, plain lines when the console is not
            one (a log file, CI); ``True`` forces the bar, ``False`` shows nothing.
        console: where to write (default: standard error).
        refresh_every: steps between updates of the bar's loss and speed (each reads the loss
            from the device).
        log_every: without a terminal, steps between two plain lines.
    """

    order: ClassVar[int] = -40
    main_only: ClassVar[bool] = True

    def __init__(
        self,
        enabled: bool | None = None,
        console: Console | None = None,
        refresh_every: int = 10,
        log_every: int = 50,
    ) -> None:
        self.enabled = enabled
        self.console = console
        self.refresh_every = max(1, refresh_every)
        self.log_every = max(1, log_every)
        self._progress: Progress | None = None
        self._plain: IO[str] | None = None
        self._task: TaskID | None = None
        self._items = 0
        self._t0 = 0.0
        self._interval_loss: list[torch.Tensor] = []

    def on_fit_start(self, trainer: Trainer) -> None:
        console = self.console or Console(stderr=True)
        if self.enabled is False:
            return
        if self.enabled is None and not console.is_terminal:
            self._plain = console.file
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
        self._items, self._t0 = 0, time.perf_counter()
        self._interval_loss = []
        if self._progress is None:
            return
        self._task = self._progress.add_task(
            f"epoch {trainer.state.epoch + 1}/{trainer.max_epochs}",
            total=trainer.steps_per_epoch,
            completed=trainer.state.step_in_epoch,
            loss="-",
            speed="",
        )

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        self._items += count
        if self._plain is not None:
            self._interval_loss.append(loss)
            if trainer.state.global_step % self.log_every == 0:
                self._plain_step(trainer)
            return
        if self._progress is None or self._task is None:
            return
        self._progress.advance(self._task)
        if trainer.state.global_step % self.refresh_every == 0:
            speed = f"{self._speed():,.0f} {trainer.count_unit}/s"
            self._progress.update(self._task, loss=f"{loss.item():.4f}", speed=speed)

    def _plain_step(self, trainer: Trainer) -> None:
        loss = float(torch.stack(self._interval_loss).mean().item())
        self._interval_loss = []
        state = trainer.state
        of = f"/{trainer.steps_per_epoch}" if trainer.steps_per_epoch else ""
        parts = [
            f"epoch {state.epoch + 1}/{trainer.max_epochs} step {state.step_in_epoch}{of}: "
            f"loss {loss:.4f}",
            f"{self._speed():,.0f} {trainer.count_unit}/s",
            *self._times(trainer),
        ]
        self._write(", ".join(parts))

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        last = trainer.state.history[-1]
        parts = [f"epoch {last['epoch']}/{trainer.max_epochs}: train loss {last['train_loss']:.4f}"]
        parts += [f"dev {k} {v:.4f}" for k, v in metrics.items()]
        parts.append(f"lr {trainer.lr:.3g}")
        parts.append(f"{self._speed():,.0f} {trainer.count_unit}/s")
        if self._plain is not None:
            self._write(", ".join([*parts, *self._times(trainer)]))
            return
        if self._progress is None or self._task is None:
            return
        self._progress.remove_task(self._task)
        self._task = None
        self._progress.console.print(", ".join(parts), highlight=False, soft_wrap=True)

    def _write(self, line: str) -> None:
        if self._plain is not None:
            self._plain.write(line + "\n")
            self._plain.flush()

    @staticmethod
    def _times(trainer: Trainer) -> list[str]:
        """``elapsed H:MM:SS`` and, where the run's length is known, ``ETA H:MM:SS``: the
        steps left at the mean speed so far (a run that stops early ends sooner)."""
        elapsed = trainer.elapsed
        out = [f"elapsed {hms(elapsed)}"]
        total = trainer.max_epochs * trainer.steps_per_epoch if trainer.steps_per_epoch else None
        if trainer.max_steps is not None:
            total = min(total, trainer.max_steps) if total is not None else trainer.max_steps
        done = trainer.state.global_step
        if total is not None and done > 0:
            out.append(f"ETA {hms(elapsed / done * max(total - done, 0))}")
        return out

    def _speed(self) -> float:
        return self._items / max(time.perf_counter() - self._t0, 1e-9)

    def on_teardown(self, trainer: Trainer) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        self._plain = None
