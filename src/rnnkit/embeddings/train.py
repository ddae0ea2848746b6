"""One entry point for every method: ``train_vectors(corpus, method, **options) -> Vectors``.

Methods: ``skipgram``, ``cbow``, ``fasttext`` (gensim), ``glove`` (rnnkit's GloVe),
``ppmi-svd`` (PPMI with context smoothing + truncated SVD) and ``count-svd``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.embeddings.cooccur import cooccurrence
from rnnkit.embeddings.corpus import Corpus, encode, read_corpus
from rnnkit.embeddings.glove import GloveConfig, train_glove
from rnnkit.embeddings.svd import ppmi, truncated_svd
from rnnkit.embeddings.vectors import Vectors
from rnnkit.embeddings.word2vec import Word2VecConfig, train_word2vec
from rnnkit.errors import ConfigError
from rnnkit.fileio import write_json

METHODS = ("skipgram", "cbow", "fasttext", "glove", "ppmi-svd", "count-svd")

#: options every method takes; the rest are each method's own
COMMON = {"dim", "min_count", "window", "seed", "lowercase", "max_vocab"}
GLOVE_OPTIONS = {f.name for f in dataclasses.fields(GloveConfig)} | COMMON
SVD_OPTIONS = {"alpha", "power"} | COMMON
WORD2VEC_OPTIONS = {f.name for f in dataclasses.fields(Word2VecConfig)} | COMMON


@dataclass(frozen=True)
class TrainStats:
    """What a training run measured."""

    method: str
    tokens: int
    vocabulary: int
    seconds: float

    @property
    def words_per_second(self) -> float:
        """Corpus tokens over wall-clock seconds (once over the corpus, whatever the epochs)."""
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def train_vectors(
    corpus: Corpus,
    method: str,
    *,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> Vectors:
    """Word vectors trained on ``corpus`` (a text file, ``NAME:SPLIT`` or token lists).

    Options: ``dim`` (100), ``window``, ``min_count`` (5), ``seed``, ``lowercase`` (False),
    ``max_vocab`` (count methods); ``epochs``, ``negative``, ``sample``, ``learning_rate``,
    ``workers`` (gensim); ``epochs``, ``x_max``, ``alpha``, ``learning_rate``, ``batch_size``
    (glove); ``alpha`` (context smoothing, 0.75) and ``power`` (eigenvalue weighting, 0.5)
    (ppmi-svd). Unknown options raise :class:`~rnnkit.errors.ConfigError`.
    """
    vectors, _ = train_vectors_with_stats(corpus, method, progress=progress, **options)
    return vectors


def train_vectors_with_stats(
    corpus: Corpus,
    method: str,
    *,
    progress: Callable[[str], None] | None = None,
    **options: Any,
) -> tuple[Vectors, TrainStats]:
    """:func:`train_vectors`, with the time and size of the run."""
    allowed = {
        "glove": GLOVE_OPTIONS,
        "ppmi-svd": SVD_OPTIONS,
        "count-svd": SVD_OPTIONS - {"alpha", "power"},
    }.get(method, WORD2VEC_OPTIONS)
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ConfigError(f"{method} takes no option {', '.join(unknown)}")
    sentences = read_corpus(corpus, lowercase=bool(options.pop("lowercase", False)))
    tokens = sum(len(s) for s in sentences)
    start = time.perf_counter()
    if method in ("skipgram", "cbow", "fasttext"):
        options.pop("max_vocab", None)
        vectors = train_word2vec(sentences, method, Word2VecConfig(**options))  # type: ignore[arg-type]
    else:
        vectors = _train_counting(sentences, method, options, progress)
    seconds = time.perf_counter() - start
    return vectors, TrainStats(method, tokens, len(vectors), seconds)


def _train_counting(
    sentences: list[list[str]],
    method: str,
    options: dict[str, Any],
    progress: Callable[[str], None] | None,
) -> Vectors:
    encoded = encode(sentences, options.pop("min_count", 5), options.pop("max_vocab", None))
    if method == "glove":
        counts = cooccurrence(encoded, options.pop("window", 10), "harmonic")

        def report(epoch: int, loss: float) -> None:
            if progress is not None:
                progress(f"glove epoch {epoch}: loss {loss:.4f}")

        return Vectors(encoded.words, train_glove(counts, GloveConfig(**options), report))
    counts = cooccurrence(encoded, options.pop("window", 5), "flat")
    dim, seed = options.pop("dim", 100), options.pop("seed", 0)
    if method == "ppmi-svd":
        matrix = ppmi(counts, options.pop("alpha", 0.75))
        return Vectors(encoded.words, truncated_svd(matrix, dim, options.pop("power", 0.5), seed))
    return Vectors(encoded.words, truncated_svd(counts, dim, 1.0, seed))


def save_trained(vectors: Vectors, stats: TrainStats, out_dir: str | Path) -> Path:
    """Write a training run's directory: ``vectors.npy`` + ``vocab.txt`` (loadable with
    :meth:`Vectors.load`), ``vectors.txt`` (word2vec text) and ``train.json`` (the stats)."""
    out = Path(out_dir)
    vectors.save(out, "dir")
    vectors.save(out / "vectors.txt", "word2vec")
    write_json(
        out / "train.json",
        {**dataclasses.asdict(stats), "words_per_second": stats.words_per_second},
    )
    return out
