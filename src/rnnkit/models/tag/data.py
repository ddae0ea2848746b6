"""Tagging files as the tagger reads them: CoNLL (token and tag columns by index) or CoNLL-U
(``.conllu``: UPOS by default, or ``data.tag_field=xpos``), and their tag schemes.

In CoNLL-U, multi-word token lines (``1-2``) and empty nodes (``8.1``) are skipped, and how many
were skipped is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rnnkit.data.conll import read_conll, read_conllu
from rnnkit.data.records import TaggedSentence
from rnnkit.data.tagschemes import SCHEMES, convert, detect_scheme
from rnnkit.data.textfile import read_utf8
from rnnkit.errors import ConfigError
from rnnkit.models.tag.artifact import DEFAULT_TAG_PIPELINE

__all__ = ["TagDataConfig", "convert_tags", "read_tagged", "tag_schemes"]

logger = logging.getLogger("rnnkit.models")
_SKIPPED_ID = re.compile(r"^\d+(-\d+|\.\d+)$")


@dataclass(frozen=True)
class TagDataConfig:
    """How tagging files become batches.

    Args:
        format: ``"auto"`` (``.conllu`` files are CoNLL-U, others CoNLL), ``"conll"``, ``"conllu"``.
        token_column: CoNLL column of the tokens (0-based; negative from the end).
        tag_column: CoNLL column of the tags.
        tag_field: CoNLL-U column of the tags (``upos``, ``xpos``, …).
        tag_scheme: the files' tag scheme: ``"auto"`` (``none`` for plain tags, ``bioes`` when
            ``E-``/``S-`` occur, else ``iob2``), ``none``, ``iob1``, ``iob2``, ``bioes``.
        model_scheme: the scheme the model learns and predicts: ``"same"`` (as the files, IOB1
            becoming IOB2), ``"iob2"`` or ``"bioes"``.
        pipeline: tokenization of raw text at prediction time.
        min_freq: words seen fewer times in training become ``<unk>``.
        max_vocab: largest word vocabulary, specials included (``None``: no limit).
        batch_size: sentences per batch (``None``: by the training set's size,
            :func:`~rnnkit.training.recipe.auto_batch_size`).
        bucket: length-bucketing pool, in batches (``0``: none).
    """

    format: str = "auto"
    token_column: int = 0
    tag_column: int = -1
    tag_field: str = "upos"
    tag_scheme: str = "auto"
    model_scheme: str = "same"
    pipeline: tuple[str, ...] = DEFAULT_TAG_PIPELINE
    min_freq: int = 1
    max_vocab: int | None = None
    batch_size: int | None = None
    bucket: int = 8

    def __post_init__(self) -> None:
        if self.format not in ("auto", "conll", "conllu"):
            raise ConfigError("data.format must be auto, conll or conllu")
        if self.tag_scheme not in ("auto", *SCHEMES):
            raise ConfigError(f"data.tag_scheme must be auto or one of {', '.join(SCHEMES)}")
        if self.model_scheme not in ("same", "iob2", "bioes"):
            raise ConfigError("data.model_scheme must be same, iob2 or bioes")
        if (
            (self.batch_size is not None and self.batch_size < 1)
            or self.bucket < 0
            or (self.min_freq < 1)
        ):
            raise ConfigError("data.batch_size and min_freq must be >= 1, bucket >= 0")


def read_tagged(path: str | Path, data: TagDataConfig | None = None) -> list[TaggedSentence]:
    """Read a CoNLL or CoNLL-U file as ``data`` says; skipped CoNLL-U lines are logged."""
    d = data or TagDataConfig()
    conllu = d.format == "conllu" or (d.format == "auto" and str(path).endswith(".conllu"))
    if not conllu:
        return read_conll(path, d.token_column, d.tag_column)
    sentences = read_conllu(path, d.tag_field)
    multi = empty = 0
    for line in read_utf8(path).splitlines():
        head = line.split("\t", 1)[0].strip()
        if _SKIPPED_ID.match(head):
            if "-" in head:
                multi += 1
            else:
                empty += 1
    if multi or empty:
        logger.info(
            "%s: skipped %d multi-word token line(s) and %d empty node(s)", path, multi, empty
        )
    return sentences


def tag_schemes(sentences: Sequence[TaggedSentence], d: TagDataConfig) -> tuple[str, str]:
    """``(files' scheme, model's scheme)`` as ``d`` says (``auto`` detects the files')."""
    source = d.tag_scheme
    if source == "auto":
        source = detect_scheme(sorted({t for s in sentences for t in s.tags}))
    if source == "none":
        if d.model_scheme != "same":
            raise ConfigError(f"data.model_scheme={d.model_scheme} needs chunk tags (B-X, I-X)")
        return source, "none"
    target = "iob2" if d.model_scheme == "same" and source == "iob1" else d.model_scheme
    return source, source if target == "same" else target


def convert_tags(sentences: Sequence[TaggedSentence], source: str, target: str) -> list[list[str]]:
    """The tags of ``sentences`` converted from scheme ``source`` to ``target``."""
    return [convert(s.tags, source, target) for s in sentences]
