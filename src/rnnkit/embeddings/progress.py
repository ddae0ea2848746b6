"""Progress of long steps: word-vector training (per-epoch reports and a terminal bar showing
words/s) and steps that are not training (:class:`Stage`: loading vectors, scoring analogies).

gensim's methods report through a gensim callback, GloVe after each of its epochs; both
arrive as :class:`EpochReport` at an ``on_epoch`` function such as :class:`EpochBar`. The
training loop's progress (:mod:`rnnkit.training.progress`) formats its times with :func:`hms`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

logger = logging.getLogger("rnnkit.progress")


def hms(seconds: float) -> str:
    """``seconds`` as ``H:MM:SS`` (``0:01:05``), rounded down to the second."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Stage:
    """A long step that is not training (loading vectors, an evaluation): on a terminal a
    transient rich bar (a spinner where ``total`` is unknown) that :meth:`advance` moves;
    elsewhere two plain INFO lines on the ``rnnkit`` logger, one as it starts and one with its
    time as it ends (the CLI prints them on standard error; a library user sees them only with a
    handler).

    Args:
        description: what the step does (``"loading vectors glove-6b-50d"``).
        total: units of work, if known.
        console: where to draw the bar (default: standard error).
    """

    def __init__(
        self, description: str, total: int | None = None, console: Console | None = None
    ) -> None:
        self.description = description
        self.total = total
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._t0 = 0.0

    def __enter__(self) -> Stage:
        self._t0 = time.perf_counter()
        if not self.console.is_terminal:
            logger.info("%s …", self.description)
            return self
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of work done."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
        elif kind is None:
            logger.info("%s: done in %s", self.description, hms(time.perf_counter() - self._t0))


@dataclass(frozen=True)
class EpochReport:
    """One finished training epoch.

    ``items`` counts what the epoch went through: corpus words for gensim's methods,
    co-occurring pairs for GloVe (``unit`` says which); ``loss`` is ``None`` where the method
    computes none.
    """

    method: str
    epoch: int
    epochs: int
    items: int
    unit: str
    seconds: float
    loss: float | None = None

    @property
    def per_second(self) -> float:
        """``items`` over the epoch's wall-clock seconds."""
        return self.items / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        """One line: ``glove epoch 3/15: 1,234,567 pairs/s, loss 0.0123``."""
        loss = "" if self.loss is None else f", loss {self.loss:.4f}"
        return (
            f"{self.method} epoch {self.epoch}/{self.epochs}: "
            f"{self.per_second:,.0f} {self.unit}/s{loss}"
        )


OnEpoch = Callable[[EpochReport], None]


class EpochBar:
    """A rich progress bar over the epochs, with the last epoch's speed and loss.

    Use as a context manager and pass it as ``on_epoch``. Where the console is not a terminal
    (``enabled=None``), it prints one line per epoch instead, so logs stay readable.
    """

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> EpochBar:
        if self.enabled:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[speed]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._progress.start()
        return self

    def __call__(self, report: EpochReport) -> None:
        if self._progress is None:
            self.console.print(report.format(), highlight=False)
            return
        if self._task is None:
            self._task = self._progress.add_task(
                f"{report.method} epochs", total=report.epochs, speed=""
            )
        loss = "" if report.loss is None else f"  loss {report.loss:.4f}"
        speed = f"{report.per_second:,.0f} {report.unit}/s{loss}"
        self._progress.update(self._task, completed=report.epoch, speed=speed)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
