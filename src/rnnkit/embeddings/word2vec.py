"""skip-gram, CBOW (Mikolov et al. 2013) and fastText (Bojanowski et al. 2017) via gensim.

gensim's optimised code trains; this module maps rnnkit's options onto it and returns
:class:`~rnnkit.embeddings.vectors.Vectors` (most frequent word first).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from rnnkit.embeddings.progress import EpochReport, OnEpoch
from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import ConfigError

Architecture = Literal["skipgram", "cbow", "fasttext"]


@dataclass(frozen=True)
class Word2VecConfig:
    """Options of the predictive methods (gensim's defaults unless said)."""

    dim: int = 100
    window: int = 5
    min_count: int = 5
    epochs: int = 5
    negative: int = 5
    sample: float = 1e-3
    learning_rate: float = 0.025
    workers: int = 2
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("dim", "window", "min_count", "epochs", "negative", "workers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")


def train_word2vec(
    sentences: list[list[str]],
    architecture: Architecture,
    config: Word2VecConfig,
    on_epoch: OnEpoch | None = None,
) -> Vectors:
    """Train ``skipgram``, ``cbow`` or ``fasttext`` (skip-gram with subwords) with negative
    sampling; ``on_epoch`` hears of each finished epoch (through a gensim callback)."""
    from gensim.models import FastText, Word2Vec  # type: ignore[import-untyped]

    if architecture not in ("skipgram", "cbow", "fasttext"):
        raise ConfigError(f"unknown architecture {architecture!r}")
    model_class = FastText if architecture == "fasttext" else Word2Vec
    model = model_class(
        sentences,
        vector_size=config.dim,
        window=config.window,
        min_count=config.min_count,
        epochs=config.epochs,
        sg=0 if architecture == "cbow" else 1,
        hs=0,
        negative=config.negative,
        sample=config.sample,
        alpha=config.learning_rate,
        workers=config.workers,
        seed=config.seed,
        callbacks=[_callback(architecture, config.epochs, on_epoch)] if on_epoch else (),
    )
    return Vectors.from_keyed_vectors(model.wv)


def _callback(method: str, epochs: int, on_epoch: OnEpoch) -> Any:
    """A gensim ``CallbackAny2Vec`` that times each epoch and reports it to ``on_epoch``."""
    from gensim.models.callbacks import CallbackAny2Vec  # type: ignore[import-untyped]

    class _Epochs(CallbackAny2Vec):  # type: ignore[misc]
        def __init__(self) -> None:
            self.epoch, self.start = 0, 0.0

        def on_epoch_begin(self, model: Any) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, model: Any) -> None:
            self.epoch += 1
            seconds = time.perf_counter() - self.start
            words = int(model.corpus_total_words)
            on_epoch(EpochReport(method, self.epoch, epochs, words, "words", seconds))

    return _Epochs()
