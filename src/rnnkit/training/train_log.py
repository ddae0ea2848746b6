"""``train_log.jsonl``: one JSON object per step interval and per epoch.

Step records: ``{"kind": "step", "step", "epoch", "loss", "lr", "elapsed", "<unit>_per_s"}`` plus
the mean of every scalar the other callbacks publish in ``trainer.scalars`` (``grad_norm``).
``loss`` is the mean over the interval and ``epoch`` the 1-based epoch in progress.
Epoch records: ``{"kind": "epoch", "step", "epoch", "train_loss", "lr", "dev": {...}, "elapsed"}``.
Non-finite numbers are written as ``null``.

The file is rewritten atomically (the whole log, at most every ``flush_secs`` seconds and at each
epoch end and checkpoint), so a reader never sees a torn line. On resume the log is cut back to
the records of the checkpoint, so a resumed run's log is that of an uninterrupted run (except
times, speeds and the last bits of interval means).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.fileio import write_text
from rnnkit.training.callbacks import Callback

if TYPE_CHECKING:
    from rnnkit.training.trainer import Trainer

__all__ = ["LOG_FILE", "JsonlLogger", "read_log"]

LOG_FILE = "train_log.jsonl"


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a ``train_log.jsonl``.

    Raises:
        DataFormatError: a line is not a JSON object.
    """
    path = Path(path)
    records = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(path, f"not a JSON object: {err.msg}", line=lineno) from err
        if not isinstance(record, dict):
            raise DataFormatError(path, "not a JSON object", line=lineno)
        records.append(record)
    return records


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


class JsonlLogger(Callback):
    """Writes ``train_log.jsonl`` in the run directory (records are also kept in ``records``).

    Args:
        every: steps per step record.
        flush_secs: the most seconds between two writes of the file.
        filename: the log's name in the run directory.
    """

    order: ClassVar[int] = -50
    main_only: ClassVar[bool] = True

    def __init__(self, every: int = 50, flush_secs: float = 10.0, filename: str = LOG_FILE) -> None:
        if every < 1:
            raise ConfigError(f"log interval must be >= 1 step, got {every}")
        self.every = every
        self.flush_secs = flush_secs
        self.filename = filename
        self.records: list[dict[str, Any]] = []
        self.path: Path | None = None
        self._lines: list[str] = []
        self._reset_interval()
        self._last_flush = time.monotonic()

    def _reset_interval(self) -> None:
        self._loss_sum = 0.0
        self._steps = 0
        self._scalar_sums: dict[str, float] = {}
        self._pending: list[torch.Tensor] = []
        self._pending_scalars: dict[str, list[torch.Tensor]] = {}
        self._items = 0
        self._t0 = time.perf_counter()

    def on_fit_start(self, trainer: Trainer) -> None:
        self.path = trainer.run_dir / self.filename if trainer.run_dir is not None else None
        self.records, self._lines = [], []
        self._reset_interval()

    def on_step_end(self, trainer: Trainer, loss: torch.Tensor, count: int) -> None:
        # Tensors are kept and read at the interval's end: no host sync per step on a GPU.
        self._pending.append(loss)
        for name, value in trainer.scalars.items():
            self._pending_scalars.setdefault(name, []).append(value.detach())
        self._steps += 1
        self._items += count
        if trainer.state.global_step % self.every == 0:
            self._settle()
            seconds = max(time.perf_counter() - self._t0, 1e-9)
            record: dict[str, Any] = {
                "kind": "step",
                "step": trainer.state.global_step,
                "epoch": trainer.state.epoch + 1,
                "loss": self._loss_sum / self._steps,
                "lr": trainer.lr,
            }
            record.update({k: v / self._steps for k, v in self._scalar_sums.items()})
            record[f"{trainer.count_unit}_per_s"] = self._items / seconds
            record["elapsed"] = trainer.elapsed
            self._emit(record)
            self._reset_interval()
            self._maybe_flush()

    def _settle(self) -> None:
        if self._pending:
            self._loss_sum += float(torch.stack(self._pending).sum().item())
        for name, values in self._pending_scalars.items():
            total = float(torch.stack([v.double() for v in values]).sum().item())
            self._scalar_sums[name] = self._scalar_sums.get(name, 0.0) + total
        self._pending, self._pending_scalars = [], {}

    def on_epoch_end(self, trainer: Trainer, metrics: dict[str, float]) -> None:
        last = trainer.state.history[-1]
        self._emit(
            {
                "kind": "epoch",
                "step": trainer.state.global_step,
                "epoch": trainer.state.epoch,
                "train_loss": last["train_loss"],
                "lr": trainer.lr,
                "dev": dict(metrics),
                "elapsed": trainer.elapsed,
            }
        )
        self.flush()

    def on_fit_end(self, trainer: Trainer) -> None:
        self.flush()

    def on_teardown(self, trainer: Trainer) -> None:
        self.flush()

    def _emit(self, record: dict[str, Any]) -> None:
        record = _finite(record)
        self.records.append(record)
        self._lines.append(json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n")

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._last_flush >= self.flush_secs:
            self.flush()

    def flush(self) -> None:
        """Write the whole log now (atomically)."""
        if self.path is not None:
            write_text(self.path, "".join(self._lines))
        self._last_flush = time.monotonic()

    def state_dict(self) -> dict[str, Any]:
        # Flushed first, so that the file holds at least the lines this state counts.
        self.flush()
        self._settle()
        return {
            "lines": len(self._lines),
            "loss_sum": self._loss_sum,
            "steps": self._steps,
            "scalar_sums": dict(self._scalar_sums),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = int(state["lines"])
        lines: list[str] = []
        if self.path is not None and self.path.is_file():
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        if len(lines) < n:
            warnings.warn(
                f"{self.path} holds {len(lines)} records, the checkpoint counts {n}; "
                "the log of the resumed run will miss some",
                stacklevel=2,
            )
        self._lines = lines[:n]
        self.records = []
        for lineno, line in enumerate(self._lines, 1):
            try:
                self.records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise DataFormatError(self.path or self.filename, err.msg, line=lineno) from err
        self._reset_interval()
        self._loss_sum = float(state["loss_sum"])
        self._steps = int(state["steps"])
        self._scalar_sums = {k: float(v) for k, v in state["scalar_sums"].items()}
