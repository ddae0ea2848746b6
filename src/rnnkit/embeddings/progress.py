"""Progress of word-vector training: per-epoch reports and a terminal bar showing words/s.

gensim's methods report through a gensim callback, GloVe after each of its epochs; both
arrive as :class:`EpochReport` at an ``on_epoch`` function such as :class:`EpochBar`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


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
