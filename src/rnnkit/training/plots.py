"""Loss and dev-metric curves as PNG, drawn from the records of ``train_log.jsonl``.

Drawn with matplotlib's Agg canvas directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rnnkit.fileio import atomic_path
from rnnkit.training.callbacks import Callback
from rnnkit.training.train_log import LOG_FILE, read_log

if TYPE_CHECKING:
    from rnnkit.training.trainer import Trainer

__all__ = ["LOSS_PLOT", "METRICS_PLOT", "PlotCurves", "plot_curves"]

LOSS_PLOT = "loss.png"
METRICS_PLOT = "dev_metrics.png"


def _series(
    records: Sequence[Mapping[str, Any]], kind: str, key: str
) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in records:
        value = r.get("dev", {}).get(key[4:]) if key.startswith("dev:") else r.get(key)
        if r.get("kind") == kind and isinstance(value, int | float):
            xs.append(int(r["step"]))
            ys.append(float(value))
    return xs, ys


def _save(fig: Any, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def plot_curves(records: Sequence[Mapping[str, Any]], out_dir: str | Path) -> list[Path]:
    """Write ``loss.png`` (train loss per interval and epoch, dev loss) and ``dev_metrics.png``
    (one panel per other dev metric, against the step) into ``out_dir``; return the paths."""
    from matplotlib.figure import Figure

    out_dir = Path(out_dir)
    written: list[Path] = []
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for kind, key, label, style in (
        ("step", "loss", "train (interval mean)", "-"),
        ("epoch", "train_loss", "train (epoch mean)", "o-"),
        ("epoch", "dev:loss", "dev", "s-"),
    ):
        xs, ys = _series(records, kind, key)
        if xs:
            ax.plot(xs, ys, style, label=label)
    if ax.lines:
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend()
        _save(fig, out_dir / LOSS_PLOT)
        written.append(out_dir / LOSS_PLOT)
    names = sorted({k for r in records if r.get("kind") == "epoch" for k in r.get("dev", {})})
    names = [n for n in names if n != "loss"]
    if names:
        fig = Figure(figsize=(7, 2.5 * len(names)))
        for i, name in enumerate(names, 1):
            ax = fig.add_subplot(len(names), 1, i)
            xs, ys = _series(records, "epoch", f"dev:{name}")
            ax.plot(xs, ys, "o-")
            ax.set_ylabel(f"dev {name}")
            ax.set_xlabel("step")
        fig.tight_layout()
        _save(fig, out_dir / METRICS_PLOT)
        written.append(out_dir / METRICS_PLOT)
    return written


class PlotCurves(Callback):
    """At the end of training, plots the run directory's ``train_log.jsonl`` (``plot_curves``)."""

    order: ClassVar[int] = 95
    main_only: ClassVar[bool] = True

    def __init__(self, log_file: str = LOG_FILE) -> None:
        self.log_file = log_file
        self.paths: list[Path] = []

    def on_fit_end(self, trainer: Trainer) -> None:
        if trainer.run_dir is None or not (trainer.run_dir / self.log_file).is_file():
            return
        self.paths = plot_curves(read_log(trainer.run_dir / self.log_file), trainer.run_dir)
