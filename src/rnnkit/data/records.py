"""The records that the file readers return: one type per task (docs/design.md §6)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TextExample:
    """One classification example: a text and its label (``""`` when the label is unknown)."""

    text: str
    label: str


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence for tagging: tokens and their tags, one tag per token.

    Raises:
        ValueError: ``tokens`` and ``tags`` differ in length.
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(f"{len(self.tokens)} tokens but {len(self.tags)} tags")

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Pair:
    """One translation pair: a source sentence and its target."""

    source: str
    target: str
