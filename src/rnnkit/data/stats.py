"""Statistics of a data file, for ``rnnkit data check FILE``.

Reading the file validates it (any problem raises :class:`rnnkit.errors.DataFormatError`
naming the file and line); the statistics then describe it: how many rows, sentences, lines
or pairs, how many tokens and distinct tokens, how long the items are, and how often each
label or tag occurs. Tokens are the tagged tokens of CoNLL/CoNLL-U files and whitespace-
separated words elsewhere (a rough count, before any tokenizer of :mod:`rnnkit.text`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rich.table import Table
from rich.text import Text

from rnnkit.data.formats import (
    Format,
    Pair,
    Records,
    TaggedSentence,
    TextExample,
    check_format,
    detect_format,
    read_any,
)

T = TypeVar("T")

UNITS: dict[Format, str] = {
    "classification": "rows",
    "conll": "sentences",
    "conllu": "sentences",
    "text": "lines",
    "pairs": "pairs",
}


@dataclass(frozen=True)
class SideStats:
    """Token counts of one side of a file (the text, or a translation pair's source or target).

    Args:
        tokens: number of tokens.
        vocabulary: number of distinct tokens (case-sensitive).
        min_length: fewest tokens in one item.
        mean_length: mean tokens per item.
        max_length: most tokens in one item.
    """

    tokens: int
    vocabulary: int
    min_length: int
    mean_length: float
    max_length: int

    @classmethod
    def of(cls, items: Sequence[Sequence[str]]) -> SideStats:
        """The statistics of tokenized items (at least one)."""
        lengths = [len(item) for item in items]
        vocabulary = {token for item in items for token in item}
        total = sum(lengths)
        return cls(total, len(vocabulary), min(lengths), total / len(lengths), max(lengths))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "tokens": self.tokens,
            "vocabulary": self.vocabulary,
            "length": {
                "min": self.min_length,
                "mean": round(self.mean_length, 3),
                "max": self.max_length,
            },
        }


@dataclass(frozen=True)
class FileStats:
    """What ``rnnkit data check`` reports about a valid file.

    Args:
        path: the file.
        format: its format.
        items: number of records (rows, sentences, lines or pairs).
        unit: what a record is called: ``rows``, ``sentences``, ``lines`` or ``pairs``.
        text: tokens of the text (classification, text), the sentences (tagging), or the
            source side (pairs).
        target: tokens of the target side (pairs only), else ``None``.
        labels: ``(label, count)`` for classification labels or tags, most frequent first
            (ties by name); empty for text and pairs.
    """

    path: str
    format: Format
    items: int
    unit: str
    text: SideStats
    target: SideStats | None
    labels: tuple[tuple[str, int], ...]

    @property
    def label_kind(self) -> str:
        """``tags`` for tagging files, else ``labels``."""
        return "tags" if self.format in ("conll", "conllu") else "labels"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; ``labels`` maps each label or tag to its count, in order."""
        return {
            "path": self.path,
            "format": self.format,
            "items": self.items,
            "unit": self.unit,
            **self.text.to_json(),
            "target": self.target.to_json() if self.target is not None else None,
            "labels": dict(self.labels),
        }


def file_stats(
    path: str | Path,
    fmt: str | None = None,
    *,
    token_column: int = 0,
    tag_column: int = -1,
    tag_field: str = "upos",
    label_optional: bool = False,
) -> FileStats:
    """Read and validate a file, then describe it.

    Args:
        path: the file.
        fmt: its format (see :data:`rnnkit.data.formats.FORMATS`); ``None``: from the suffix.
        token_column: CoNLL token column.
        tag_column: CoNLL tag column.
        tag_field: CoNLL-U tag field.
        label_optional: accept a classification file without labels.

    Raises:
        ConfigError: an unknown ``fmt``.
        DataFormatError: the file is not valid in its format.
    """
    kind = detect_format(path) if fmt is None else check_format(fmt)
    records = read_any(
        path,
        kind,
        token_column=token_column,
        tag_column=tag_column,
        tag_field=tag_field,
        label_optional=label_optional,
    )
    return compute_stats(records, kind, str(path))


def compute_stats(records: Records, fmt: Format, path: str = "") -> FileStats:
    """The statistics of records read in format ``fmt`` (at least one record).

    Raises:
        ValueError: no records.
    """
    if not records:
        raise ValueError("no records")
    target = None
    labels: Counter[str] = Counter()
    if fmt == "classification":
        examples = _typed(records, TextExample)
        text = SideStats.of([ex.text.split() for ex in examples])
        labels.update(ex.label for ex in examples)
    elif fmt in ("conll", "conllu"):
        sentences = _typed(records, TaggedSentence)
        text = SideStats.of([s.tokens for s in sentences])
        labels.update(tag for s in sentences for tag in s.tags)
    elif fmt == "text":
        text = SideStats.of([line.split() for line in _typed(records, str)])
    else:
        pairs = _typed(records, Pair)
        text = SideStats.of([p.source.split() for p in pairs])
        target = SideStats.of([p.target.split() for p in pairs])
    ordered = tuple(sorted(labels.items(), key=lambda item: (-item[1], item[0])))
    return FileStats(path, fmt, len(records), UNITS[fmt], text, target, ordered)


def _typed(records: Iterable[object], kind: type[T]) -> list[T]:
    items = list(records)
    if not all(isinstance(item, kind) for item in items):
        raise ValueError(f"expected {kind.__name__} records")
    return [item for item in items if isinstance(item, kind)]


def render_stats(stats: FileStats, max_labels: int = 30) -> Table:
    """A table of the statistics, showing the ``max_labels`` most frequent labels or tags."""
    # Text(...) keeps brackets in user strings from being read as rich markup.
    table = Table("", "", title=Text(f"{stats.path} ({stats.format})"), show_header=False)
    table.add_row(stats.unit, f"{stats.items:,}")
    sides = [("", stats.text)]
    if stats.target is not None:
        sides = [("source ", stats.text), ("target ", stats.target)]
    per = stats.unit[:-1]
    for prefix, side in sides:
        table.add_row(f"{prefix}tokens", f"{side.tokens:,}")
        table.add_row(f"{prefix}vocabulary", f"{side.vocabulary:,}")
        table.add_row(
            f"{prefix}tokens per {per}",
            f"min {side.min_length} · mean {side.mean_length:.1f} · max {side.max_length}",
        )
    if stats.labels:
        total = sum(count for _, count in stats.labels)
        table.add_section()
        table.add_row(f"[bold]{stats.label_kind}[/bold]", f"{len(stats.labels):,} distinct")
        for label, count in stats.labels[:max_labels]:
            table.add_row(Text(label), f"{count:,} ({100 * count / total:.1f}%)")
        if len(stats.labels) > max_labels:
            table.add_row("…", f"{len(stats.labels) - max_labels:,} more")
    return table
