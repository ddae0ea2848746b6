"""One entry point for every method: ``train_vectors(corpus, method, **options) -> Vectors``.

Methods: ``skipgram``, ``cbow``, ``fasttext`` (gensim), ``glove`` (rnnkit's GloVe),
``ppmi-svd`` (PPMI with context smoothing + truncated SVD) and ``count-svd``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.embeddings.cooccur import cooccurrence
from rnnkit.embeddings.corpus import Corpus, encode, read_corpus
from rnnkit.embeddings.glove import GloveConfig, train_glove
from rnnkit.embeddings.progress import EpochReport, OnEpoch
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
    progress: OnEpoch | None = None,
    **options: Any,
) -> Vectors:
    """Word vectors trained on ``corpus`` (a text file, ``NAME:SPLIT`` or token lists).

    ``progress`` hears of each finished epoch (an :class:`EpochReport`, e.g. to an
    :class:`~rnnkit.embeddings.progress.EpochBar`); the SVD methods have no epochs.

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
    progress: OnEpoch | None = None,
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
        config = Word2VecConfig(**options)
        vectors = train_word2vec(sentences, method, config, progress)  # type: ignore[arg-type]
    else:
        vectors = _train_counting(sentences, method, options, progress)
    seconds = time.perf_counter() - start
    return vectors, TrainStats(method, tokens, len(vectors), seconds)


def _train_counting(
    sentences: list[list[str]],
    method: str,
    options: dict[str, Any],
    progress: OnEpoch | None,
) -> Vectors:
    encoded = encode(sentences, options.pop("min_count", 5), options.pop("max_vocab", None))
    if method == "glove":
        counts = cooccurrence(encoded, options.pop("window", 10), "harmonic")
        config = GloveConfig(**options)
        last = [time.perf_counter()]

        def report(epoch: int, loss: float) -> None:
            now = time.perf_counter()
            if progress is not None:
                pairs = counts.nnz
                progress(
                    EpochReport("glove", epoch, config.epochs, pairs, "pairs", now - last[0], loss)
                )
            last[0] = now

        return Vectors(encoded.words, train_glove(counts, config, report))
    counts = cooccurrence(encoded, options.pop("window", 5), "flat")
    dim, seed = options.pop("dim", 100), options.pop("seed", 0)
    if method == "ppmi-svd":
        matrix = ppmi(counts, options.pop("alpha", 0.75))
        return Vectors(encoded.words, truncated_svd(matrix, dim, options.pop("power", 0.5), seed))
    return Vectors(encoded.words, truncated_svd(counts, dim, 1.0, seed))


def train_to_dir(
    corpus: Corpus,
    method: str,
    out_dir: str | Path,
    *,
    progress: OnEpoch | None = None,
    **options: Any,
) -> tuple[Vectors, TrainStats]:
    """:func:`train_vectors_with_stats`, then :func:`save_trained` into ``out_dir``."""
    vectors, stats = train_vectors_with_stats(corpus, method, progress=progress, **options)
    save_trained(vectors, stats, out_dir)
    return vectors, stats


def parse_options(method: str, items: Sequence[str]) -> dict[str, Any]:
    """``["x_max=10", "epochs=30"]`` as typed options of ``method`` (the type of each
    option's default: int, float, bool or str).

    Raises:
        ConfigError: not ``KEY=VALUE``, an option ``method`` does not take, or a bad value.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    types = {**_OPTION_TYPES, **(_GLOVE_TYPES if method == "glove" else _WORD2VEC_TYPES)}
    options: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"option {item!r} is not KEY=VALUE")
        if key not in types:
            raise ConfigError(f"{method} takes no option {key}")
        options[key] = _convert(key, text.strip(), types[key])
    return options


def _convert(key: str, text: str, kind: type) -> Any:
    if kind is bool:
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigError(f"option {key} takes true or false, got {text!r}")
        return text.lower() in ("true", "1", "yes")
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"option {key} takes a {kind.__name__}, got {text!r}") from None


_OPTION_TYPES: dict[str, type] = {
    "dim": int,
    "min_count": int,
    "window": int,
    "seed": int,
    "lowercase": bool,
    "max_vocab": int,
    "alpha": float,
    "power": float,
}
_GLOVE_TYPES = {f.name: type(f.default) for f in dataclasses.fields(GloveConfig)}
_WORD2VEC_TYPES = {f.name: type(f.default) for f in dataclasses.fields(Word2VecConfig)}


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
