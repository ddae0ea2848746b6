"""A trained classifier with everything it needs to read raw text: pipeline, vocabulary, labels.

:class:`TextClassifier` is what a ``classify`` run directory restores to; ``predict`` on raw text
preprocesses exactly as training did, because the pipeline travels in ``config.json``. With a
character encoder (``model.char_encoder``) the character vocabulary travels there too, and every
batch carries the characters of its tokens (:class:`~.model.CharBatch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnkit.data.batching import PaddedBatch, encode, make_batches, pad_batch, run_in_order
from rnnkit.data.chars import CharIds
from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.hierarchical import boundary_ids
from rnnkit.models.classify.model import (
    CharBatch,
    Classifier,
    ClassifierConfig,
    build_classifier,
)
from rnnkit.models.classify.wide import TfidfLogReg
from rnnkit.models.common.artifact import (
    RunArtifact,
    config_from_dict,
    config_to_dict,
    read_pipeline,
    read_strings,
    register_loader,
)
from rnnkit.nn.char import unique_words
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.device import move_to_device

__all__ = ["TASK", "TRUNCATIONS", "Prediction", "TextClassifier", "clip"]

TASK = "classify"
TRUNCATIONS = ("head", "head+tail")


def clip(tokens: list[str], max_length: int | None, truncate: str = "head") -> list[str]:
    """At most ``max_length`` of ``tokens``: the first ones (``"head"``), or the first quarter
    and the last three quarters of the budget (``"head+tail"``)."""
    if max_length is None or len(tokens) <= max_length:
        return tokens
    if truncate == "head":
        return tokens[:max_length]
    head = max_length // 4
    return tokens[:head] + tokens[len(tokens) - (max_length - head) :]


@dataclass(frozen=True)
class Prediction:
    """One text's prediction: the label, every class's probability, the tokens the model read
    and, for attention pooling, each token's weight (same length as ``tokens``)."""

    label: str
    probabilities: dict[str, float]
    tokens: list[str]
    attention: list[float] | None

    def to_json(self, explain: bool = False) -> dict[str, Any]:
        """A JSON-ready dict; with ``explain``, also ``tokens`` and their ``attention`` weights
        (when the model has attention pooling)."""
        out: dict[str, Any] = {"label": self.label, "probabilities": self.probabilities}
        if explain and self.attention is not None:
            out["tokens"] = self.tokens
            out["attention"] = self.attention
        return out


class TextClassifier(RunArtifact[Classifier | Ensemble]):
    """A :class:`Classifier` with its preprocessing, vocabulary and label set.

    Args:
        model: the network.
        config: the config it was built from.
        vocab: token ids (with ``<pad>`` 0 and ``<unk>``).
        labels: class names; class ``i`` is ``labels[i]``.
        pipeline: raw text to tokens.
        max_length: tokens read per text (longer texts are truncated); ``None`` for all.
        truncate: which tokens of a longer text are read: ``"head"`` (the first
            ``max_length``) or ``"head+tail"`` (the first quarter and the last three quarters
            of ``max_length``: a review's verdict is often at its end; Sun et al. 2019 found
            head and tail best for long IMDb reviews).
        chars: the character vocabulary (:func:`rnnkit.data.chars.char_vocab` of the training
            tokens) of a model with a ``char_encoder``; ``None`` without one.
    """

    TASK = TASK

    def __init__(
        self,
        model: Classifier | Ensemble,
        config: ClassifierConfig,
        vocab: Vocab,
        labels: Sequence[str],
        pipeline: Pipeline,
        max_length: int | None = None,
        truncate: str = "head",
        chars: Vocab | None = None,
    ) -> None:
        if len(labels) != model.num_labels:
            raise ConfigError(f"{len(labels)} labels for a model with {model.num_labels} classes")
        if vocab.unk_id is None:
            raise ConfigError("a classifier's vocabulary needs an <unk> entry")
        self.model, self.config, self.vocab = model, config, vocab
        self.labels = list(labels)
        if truncate not in TRUNCATIONS:
            raise ConfigError(f"truncate must be one of {', '.join(TRUNCATIONS)}, got {truncate!r}")
        self.pipeline, self.max_length, self.truncate = pipeline, max_length, truncate
        if (config.char_encoder != "none") != (chars is not None):
            raise ConfigError(
                f"model.char_encoder={config.char_encoder} "
                + ("needs a character vocabulary" if chars is None else "takes no characters")
            )
        self.chars = chars
        self._char_ids = CharIds(chars) if chars is not None else None

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Tokens of each text as the model reads them (preprocessed, truncated)."""
        return [clip(self.pipeline(t), self.max_length, self.truncate) for t in texts]

    def batches(
        self,
        texts: Sequence[str],
        labels: Sequence[str] | None = None,
        batch_size: int = 64,
        bucket: int = 4,
    ) -> list[PaddedBatch]:
        """Padded batches of ``texts`` (and the class ids of ``labels``), bucketed by length;
        :class:`~.model.CharBatch` es for a model with a character encoder."""
        tokens = self.tokenize(texts)
        ids = encode(tokens, self.vocab)
        batches = make_batches(
            ids, self.label_ids(labels) if labels is not None else None, batch_size, bucket
        )
        if self._char_ids is None:
            return batches
        out: list[PaddedBatch] = []
        for batch in batches:
            assert batch.index is not None
            out.append(self._add_chars(batch, [tokens[i] for i in batch.index.tolist()]))
        return out

    def _add_chars(self, batch: PaddedBatch, tokens: Sequence[list[str]]) -> PaddedBatch:
        """``batch`` with the characters of ``tokens`` (its rows' tokens; an empty text, read
        as one ``<unk>`` word, has one word of no characters)."""
        if self._char_ids is None:
            return batch
        words = [toks or [""] for toks in tokens]
        chars, lengths, where = unique_words(words, self._char_ids, self.config.max_word_length)
        return CharBatch(batch.ids, batch.lengths, batch.labels, batch.index, chars, lengths, where)

    def pad(self, tokens: Sequence[list[str]]) -> PaddedBatch:
        """One batch of token lists, as the model reads them (ids, and characters when it has a
        character encoder)."""
        return self._add_chars(pad_batch(encode(tokens, self.vocab)), tokens)

    def label_ids(self, labels: Sequence[str]) -> list[int]:
        """Class ids of ``labels``; a label the model was not trained on raises ``ConfigError``."""
        index = {name: i for i, name in enumerate(self.labels)}
        unknown = sorted({lab for lab in labels if lab not in index})
        if unknown:
            raise ConfigError(
                f"label(s) {', '.join(map(repr, unknown[:10]))} never seen in training; "
                f"this model knows {', '.join(map(repr, self.labels))}"
            )
        return [index[lab] for lab in labels]

    def run(self, texts: Sequence[str], batch_size: int = 64) -> tuple[np.ndarray, list[Any]]:
        """``(probabilities (N, C) float32, attention weights per text or None)``, input order."""
        return self._run(self.tokenize(texts), batch_size)

    @torch.inference_mode()
    def _run(self, tokens: Sequence[list[str]], batch_size: int) -> tuple[np.ndarray, list[Any]]:
        self.model.eval()
        device = next(self.model.parameters()).device
        ids = encode(tokens, self.vocab)

        def run_batch(rows: list[int]) -> list[tuple[np.ndarray, list[float] | None]]:
            batch = self._add_chars(pad_batch([ids[i] for i in rows]), [tokens[i] for i in rows])
            out = self.model(move_to_device(batch, device))
            probs = out.probabilities.float().cpu().numpy()  # (B, C)
            weights = out.attention.float().cpu() if out.attention is not None else None
            return [
                (probs[r], weights[r, : len(ids[i])].tolist() if weights is not None else None)
                for r, i in enumerate(rows)
            ]

        rows, lengths = range(len(ids)), [len(s) for s in ids]
        results = run_in_order(rows, lengths, batch_size, run_batch, workers=self.batch_workers)
        probs = np.zeros((len(ids), len(self.labels)), dtype=np.float32)
        for i, (row, _) in enumerate(results):
            probs[i] = row
        return probs, [weights for _, weights in results]

    def predict_proba(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities ``(N, C)``, columns in the order of :attr:`labels`."""
        return self.run(texts, batch_size)[0]

    def predict(self, texts: Sequence[str], batch_size: int = 64) -> list[Prediction]:
        """One :class:`Prediction` per text, in input order (texts are run in batches of
        similar length)."""
        tokens = self.tokenize(texts)
        probs, attention = self._run(tokens, batch_size)
        out = []
        for row, toks, weights in zip(probs, tokens, attention, strict=True):
            out.append(
                Prediction(
                    label=self.labels[int(row.argmax())],
                    probabilities={lab: float(p) for lab, p in zip(self.labels, row, strict=True)},
                    tokens=toks,
                    attention=weights[: len(toks)] if weights is not None else None,
                )
            )
        return out

    def sections(self) -> dict[str, Any]:
        return {
            "model": config_to_dict(self.config),
            "vocab": self.vocab.to_dict(),
            **({"chars": self.chars.to_dict()} if self.chars is not None else {}),
            "labels": self.labels,
            "pipeline": self.pipeline.to_config(),
            "data": {"max_length": self.max_length, "truncate": self.truncate},
            "members": len(self.model.members) if isinstance(self.model, Ensemble) else 1,
        }

    @classmethod
    def from_sections(cls, doc: Mapping[str, Any], source: Path, run_dir: Path) -> TextClassifier:
        config = config_from_dict(ClassifierConfig, doc.get("model"), source, "model")
        vocab = Vocab.from_dict(doc.get("vocab", {}), source)
        chars = Vocab.from_dict(doc["chars"], source) if doc.get("chars") is not None else None
        if (config.char_encoder != "none") != (chars is not None):
            raise DataFormatError(
                source, f'model.char_encoder={config.char_encoder} and the "chars" section disagree'
            )
        labels = read_strings(doc, "labels", source)
        pipeline = read_pipeline(doc.get("pipeline", []), source)
        data = doc.get("data") or {}
        max_length, truncate = data.get("max_length"), data.get("truncate", "head")
        boundaries, num_chars = boundary_ids(vocab), len(chars) if chars is not None else 0
        members = doc.get("members", 1)
        if not isinstance(members, int) or members < 1:
            raise DataFormatError(source, '"members" must be a positive integer')
        nets = [
            build_classifier(
                config, len(vocab), len(labels), boundaries=boundaries, num_chars=num_chars
            )
            for _ in range(members)
        ]
        wide = None
        if config.tfidf_member:
            if config.tfidf_chars and chars is None:
                raise DataFormatError(source, "model.tfidf_chars needs a character encoder")
            wide = TfidfLogReg(len(labels), chars=config.tfidf_chars)
        model = nets[0] if members == 1 and wide is None else Ensemble(nets, wide)
        return cls(model, config, vocab, labels, pipeline, max_length, truncate, chars)


register_loader(TASK, TextClassifier.load)
