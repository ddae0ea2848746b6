"""Classification metrics: accuracy, macro-F1, a per-class table and the confusion matrix.

The numbers come from scikit-learn (``precision_recall_fscore_support``, ``confusion_matrix``);
this module only gathers them into one JSON-serialisable record and renders it as a table and
a picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from rnnkit.fileio import atomic_path


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class, and its number of gold examples."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationReport:
    """Scores of one set of predictions against gold labels.

    ``confusion[i][j]`` counts examples of gold class ``labels[i]`` predicted as ``labels[j]``.
    """

    accuracy: float
    macro_f1: float
    per_class: tuple[ClassScore, ...]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]

    def to_json(self) -> dict[str, Any]:
        """A plain ``dict`` for ``metrics.json``."""
        out = asdict(self)
        out["per_class"] = [asdict(s) for s in self.per_class]
        out["confusion"] = [list(row) for row in self.confusion]
        out["labels"] = list(self.labels)
        return out


def classification_report(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> ClassificationReport:
    """Score ``predicted`` against ``gold``.

    Args:
        gold: gold labels, one per example.
        predicted: predicted labels, same length.
        labels: the label set and its order; by default the sorted union of both sequences.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("cannot score an empty set of predictions")
    label_list = list(labels) if labels is not None else sorted(set(gold) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(
        gold, predicted, labels=label_list, average=None, zero_division=0
    )
    per_class = tuple(
        ClassScore(lab, float(pi), float(ri), float(fi), int(si))
        for lab, pi, ri, fi, si in zip(label_list, p, r, f, s, strict=True)
    )
    cm = confusion_matrix(gold, predicted, labels=label_list)
    return ClassificationReport(
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(sum(c.f1 for c in per_class) / len(per_class)),
        per_class=per_class,
        labels=tuple(label_list),
        confusion=tuple(tuple(int(v) for v in row) for row in cm),
    )


def report_table(report: ClassificationReport, title: str = "") -> Table:
    """The per-class scores, then accuracy and macro-F1, as a ``rich`` table."""
    table = Table(title=title or None)
    table.add_column("class")
    for name in ("precision", "recall", "F1"):
        table.add_column(name, justify="right")
    table.add_column("support", justify="right")
    for c in report.per_class:
        scores = (f"{v:.3f}" for v in (c.precision, c.recall, c.f1))
        table.add_row(c.label, *scores, str(c.support))
    total = sum(c.support for c in report.per_class)
    table.add_section()
    table.add_row("macro avg", "", "", f"{report.macro_f1:.3f}", str(total))
    table.add_row("accuracy", "", "", f"{report.accuracy:.3f}", str(total))
    return table


def plot_confusion_matrix(report: ClassificationReport, path: str | Path, title: str = "") -> None:
    """Write the confusion matrix as a PNG heat map, rows normalised to recall, counts printed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.array(report.confusion, dtype=float)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    n = len(report.labels)
    fig, ax = plt.subplots(figsize=(1.2 * n + 2.5, 1.1 * n + 1.8))
    im = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(n), report.labels, rotation=45, ha="right")
    ax.set_yticks(range(n), report.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(n):
        for j in range(n):
            colour = "white" if rates[i, j] > 0.5 else "black"
            ax.text(j, i, f"{int(counts[i, j])}", ha="center", va="center", color=colour)
    ax.set_title(title or f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
    fig.colorbar(im, ax=ax, label="fraction of gold row")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
