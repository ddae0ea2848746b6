"""A trained language model with its tokenization and vocabulary: what an ``lm`` run restores to.

Text is read a line at a time (docs/design.md §6: one sentence or paragraph per line). At word level
a line is split on whitespace (or by the saved preprocessing pipeline) and ``<eos>`` follows it,
as in Mikolov's PTB; at character level each character is a token and ``<eos>`` stands for the
line break. Blank lines hold no tokens and are skipped. A token not in the vocabulary (seen
fewer than ``data.min_freq`` times in training, beyond ``data.max_vocab``, or new in the dev or
test text) reads as ``<unk>``, and predicting it counts as predicting ``<unk>``: the perplexity
of a text with unseen words is that of the text with those words replaced by ``<unk>`` (as for
Mikolov's PTB, whose files already hold ``<unk>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.models.common.artifact import (
    RunArtifact,
    config_from_dict,
    config_to_dict,
    read_pipeline,
    read_strings,
    register_loader,
)
from rnnkit.models.lm.model import LanguageModel, LMConfig, build_language_model
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import EOS, UNK, Vocab

__all__ = ["LM_SPECIALS", "TASK", "TextLM", "line_tokens", "tokenize_line"]

TASK = "lm"
LM_SPECIALS: tuple[str, ...] = (UNK, EOS)


def tokenize_line(line: str, level: str, pipeline: Pipeline | None = None) -> list[str]:
    """The tokens of one line (without ``<eos>``): characters, pipeline tokens or words."""
    if level == "char":
        return list(line)
    if pipeline is not None:
        return pipeline(line)
    return line.split()


def line_tokens(
    lines: Iterable[str], level: str, pipeline: Pipeline | None = None
) -> list[list[str]]:
    """Tokens of every line that has some (blank lines are skipped)."""
    out = []
    for line in lines:
        if line.strip():
            tokens = tokenize_line(line.rstrip("\n"), level, pipeline)
            if tokens:
                out.append(tokens)
    return out


class TextLM(RunArtifact[LanguageModel]):
    """A :class:`LanguageModel` with its vocabulary, tokenization and (for a conditional
    generator) its label set.

    Args:
        model: the network.
        config: the config it was built from.
        vocab: token ids, with ``<unk>`` and ``<eos>``.
        pipeline: word-level preprocessing (``None``: split on whitespace); unused for characters.
        labels: the conditions of a label-conditioned generator (``None`` otherwise).
    """

    TASK = TASK

    def __init__(
        self,
        model: LanguageModel,
        config: LMConfig,
        vocab: Vocab,
        pipeline: Pipeline | None = None,
        labels: Sequence[str] | None = None,
    ) -> None:
        if vocab.unk_id is None or EOS not in vocab:
            raise ConfigError("a language model's vocabulary needs <unk> and <eos>")
        if len(vocab) != model.vocab_size:
            raise ConfigError(f"vocabulary of {len(vocab)} for a model of {model.vocab_size}")
        if (labels is not None and len(labels) != model.num_conditions) or (
            labels is None and model.num_conditions
        ):
            raise ConfigError("the labels do not match the model's conditions")
        self.model, self.config, self.vocab = model, config, vocab
        self.pipeline = pipeline
        self.labels = list(labels) if labels is not None else None
        self.eos_id = vocab.id(EOS)

    @property
    def level(self) -> str:
        """``"word"`` or ``"char"``."""
        return self.config.level

    def tokenize(self, line: str) -> list[str]:
        """The tokens of one line (without ``<eos>``)."""
        return tokenize_line(line, self.level, self.pipeline)

    def encode_stream(self, lines: Iterable[str]) -> Tensor:
        """One ``(N,)`` int64 stream: each non-blank line's ids followed by ``<eos>``."""
        ids: list[int] = []
        for tokens in line_tokens(lines, self.level, self.pipeline):
            ids += self.vocab.encode(tokens)
            ids.append(self.eos_id)
        return torch.tensor(ids, dtype=torch.long)

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of ``ids``: ``<eos>`` as a line break; words joined by spaces."""
        sep = "" if self.level == "char" else " "
        lines: list[str] = []
        current: list[str] = []
        for token in self.vocab.decode(list(ids)):
            if token == EOS:
                lines.append(sep.join(current) + "\n")
                current = []
            else:
                current.append(token)
        return "".join(lines) + sep.join(current)

    def label_id(self, label: str) -> int:
        """Condition id of ``label``; an unknown one raises ``ConfigError``."""
        if self.labels is None:
            raise ConfigError("this language model is not conditioned on labels")
        if label not in self.labels:
            raise ConfigError(f"unknown label {label!r}; this model knows {', '.join(self.labels)}")
        return self.labels.index(label)

    def sections(self) -> dict[str, Any]:
        return {
            "model": config_to_dict(self.config),
            "vocab": self.vocab.to_dict(),
            "labels": self.labels,
            "pipeline": self.pipeline.to_config() if self.pipeline is not None else None,
        }

    @classmethod
    def from_sections(cls, doc: Mapping[str, Any], source: Path, run_dir: Path) -> TextLM:
        config = config_from_dict(LMConfig, doc.get("model"), source, "model")
        vocab = Vocab.from_dict(doc.get("vocab", {}), source)
        labels = None if doc.get("labels") is None else read_strings(doc, "labels", source)
        spec = doc.get("pipeline")
        pipeline = None if spec is None else read_pipeline(spec, source)
        model = build_language_model(config, len(vocab), len(labels or []))
        return cls(model, config, vocab, pipeline, labels)


register_loader(TASK, TextLM.load)
