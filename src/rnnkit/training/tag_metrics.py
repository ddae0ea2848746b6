"""Tagging metrics: token accuracy, entity spans, a per-tag table, the most-confused tags.

- Token accuracy and the per-tag precision / recall / F1 come from
  :func:`rnnkit.training.metrics.classification_report` over all tokens.
- For chunk tags (IOB1 / IOB2 / BIOES) the span scores come from ``seqeval`` in strict mode:
  a span counts only when its type and both boundaries match exactly (as CoNLL's
  ``conlleval``, and without its repairs of invalid ``I-`` starts). IOB1 tags are converted to
  IOB2 first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from rnnkit.data.tagschemes import convert
from rnnkit.training.metrics import (
    ClassificationReport,
    classification_report,
    plot_confusion_matrix,
)

__all__ = [
    "SpanScore",
    "TaggingReport",
    "plot_most_confused",
    "span_scores",
    "tagging_report",
    "tagging_tables",
    "token_accuracy",
]


@dataclass(frozen=True)
class SpanScore:
    """Precision, recall and F1 of the spans of one type (or ``"micro"`` over all types) and the
    number of gold spans."""

    type: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class TaggingReport:
    """Scores of predicted tag sequences against gold ones.

    ``spans`` (per type) and ``micro`` are ``None`` for unstructured tags (POS).
    """

    accuracy: float
    tokens: int
    per_tag: ClassificationReport
    spans: tuple[SpanScore, ...] | None
    micro: SpanScore | None

    @property
    def score(self) -> float:
        """The headline number: span micro-F1 for chunk tags, token accuracy otherwise."""
        return self.micro.f1 if self.micro is not None else self.accuracy

    def to_json(self) -> dict[str, Any]:
        """A plain ``dict`` for ``metrics.json``."""
        return {
            "accuracy": self.accuracy,
            "tokens": self.tokens,
            "f1": self.micro.f1 if self.micro is not None else None,
            "micro": asdict(self.micro) if self.micro is not None else None,
            "spans": [asdict(s) for s in self.spans] if self.spans is not None else None,
            "per_tag": self.per_tag.to_json(),
        }


def _check(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    for i, (g, p) in enumerate(zip(gold, predicted, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
    if not any(gold):
        raise ValueError("cannot score an empty set of sentences")


def token_accuracy(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    """Fraction of tokens whose predicted tag equals the gold tag."""
    _check(gold, predicted)
    pairs = [
        (g, p) for gs, ps in zip(gold, predicted, strict=True) for g, p in zip(gs, ps, strict=True)
    ]
    return sum(g == p for g, p in pairs) / len(pairs)


def span_scores(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], scheme: str
) -> tuple[tuple[SpanScore, ...], SpanScore]:
    """Strict span scores per type and micro-averaged (``seqeval``); ``scheme`` is ``iob1``,
    ``iob2`` or ``bioes``."""
    from seqeval.metrics import classification_report as seqeval_report  # type: ignore[import-untyped]
    from seqeval.scheme import IOB2, IOBES  # type: ignore[import-untyped]

    _check(gold, predicted)
    if scheme == "iob1":
        gold = [convert(s, "iob1", "iob2") for s in gold]
        predicted = [convert(s, "iob1", "iob2") for s in predicted]
        scheme = "iob2"
    if scheme not in ("iob2", "bioes"):
        raise ValueError(f"span scores need chunk tags (iob1, iob2, bioes), not {scheme!r}")
    doc = seqeval_report(
        [list(s) for s in gold],
        [list(s) for s in predicted],
        mode="strict",
        scheme=IOB2 if scheme == "iob2" else IOBES,
        output_dict=True,
        zero_division=0,
    )

    def one(name: str, row: dict[str, Any]) -> SpanScore:
        p, r, f, n = (row[k] for k in ("precision", "recall", "f1-score", "support"))
        return SpanScore(name, float(p), float(r), float(f), int(n))

    types = tuple(one(k, v) for k, v in doc.items() if not k.endswith(" avg"))
    micro = doc.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
    return types, one("micro", micro)


def tagging_report(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    scheme: str = "none",
    tags: Sequence[str] | None = None,
) -> TaggingReport:
    """Token accuracy, per-tag scores and (for chunk ``scheme``\\ s) strict span scores."""
    _check(gold, predicted)
    flat_gold = [t for s in gold for t in s]
    flat_pred = [t for s in predicted for t in s]
    labels = None
    if tags is not None:
        labels = [*tags, *sorted((set(flat_gold) | set(flat_pred)) - set(tags))]
    per_tag = classification_report(flat_gold, flat_pred, labels=labels)
    spans = micro = None
    if scheme != "none":
        spans, micro = span_scores(gold, predicted, scheme)
    return TaggingReport(per_tag.accuracy, len(flat_gold), per_tag, spans, micro)


def tagging_tables(report: TaggingReport, title: str = "") -> list[Table]:
    """A span table (chunk tags) and the per-tag table, as ``rich`` tables."""
    tables = []
    if report.spans is not None and report.micro is not None:
        spans = Table(title=f"{title} spans (strict)".strip())
        spans.add_column("type")
        for name in ("precision", "recall", "F1"):
            spans.add_column(name, justify="right")
        spans.add_column("support", justify="right")
        for s in (*report.spans, report.micro):
            if s is report.micro:
                spans.add_section()
            spans.add_row(
                s.type, *(f"{v:.4f}" for v in (s.precision, s.recall, s.f1)), str(s.support)
            )
        tables.append(spans)
    table = Table(title=f"{title} tags".strip())
    table.add_column("tag")
    for name in ("precision", "recall", "F1"):
        table.add_column(name, justify="right")
    table.add_column("support", justify="right")
    for c in report.per_tag.per_class:
        table.add_row(c.label, *(f"{v:.4f}" for v in (c.precision, c.recall, c.f1)), str(c.support))
    table.add_section()
    table.add_row("accuracy", "", "", f"{report.accuracy:.4f}", str(report.tokens))
    tables.append(table)
    return tables


def most_confused(report: TaggingReport, top: int = 10) -> list[str]:
    """The ``top`` tags with the most errors (as gold or as prediction), most first."""
    cm = report.per_tag.confusion
    n = len(cm)
    errors = [sum(cm[i][j] + cm[j][i] for j in range(n) if j != i) for i in range(n)]
    order = sorted(range(n), key=lambda i: (-errors[i], i))
    return [report.per_tag.labels[i] for i in order[:top] if errors[i] > 0]


def plot_most_confused(report: TaggingReport, path: str | Path, top: int = 10) -> list[str]:
    """Write the confusion matrix of the ``top`` most-confused tags as a PNG; returns them
    (nothing is written when there are no errors)."""
    chosen = most_confused(report, top)
    if not chosen:
        return []
    full = report.per_tag
    at = [full.labels.index(t) for t in chosen]
    sub = ClassificationReport(
        accuracy=report.accuracy,
        macro_f1=full.macro_f1,
        per_class=tuple(full.per_class[i] for i in at),
        labels=tuple(chosen),
        confusion=tuple(tuple(full.confusion[i][j] for j in at) for i in at),
    )
    title = f"the {len(chosen)} most-confused tags (token accuracy {report.accuracy:.4f})"
    plot_confusion_matrix(sub, path, title=title)
    return chosen
