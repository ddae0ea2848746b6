"""The embedder: token ids ``(B, T)`` to vectors ``(B, T, E)``, trained or from word vectors.

Initialisation from pretrained vectors (:func:`pretrained_matrix`): a vocabulary entry takes the
vector of the same word, else of its lowercased form (GloVe 6B is lowercased); else, when it is
a word the vectors' tokenizer would have cut into pieces, the mean of the pieces' vectors
(:func:`word_pieces`: ``#patriots`` → ``patriots``; ``don't`` → ``do n't`` and ``i'm`` → ``i 'm``,
as the Penn Treebank tokenization of GloVe's corpus; ``self-driving`` → ``self driving``), which
keeps negations such as ``didn't`` from starting as noise. ``<pad>`` is the zero vector; every
other entry, ``<unk>`` and the specials included, is drawn from ``N(mu, sigma^2)`` with the
per-dimension mean and standard deviation of the pretrained matrix, so the missing words have
the scale of the known ones (a seeded generator: repeatable).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.text.vocab import PAD, Vocab

logger = logging.getLogger("rnnkit.models")

__all__ = ["Coverage", "Embedder", "pretrained_matrix", "word_pieces"]

_CLITIC = re.compile(r"^(.+?)(n't|'s|'m|'re|'ve|'ll|'d)$")


def word_pieces(token: str) -> list[str]:
    """The pieces a treebank-style tokenizer would have made of ``token`` (lower-cased), or
    ``[]`` when it would have kept it whole (see the module docstring)."""
    word = token.lower().lstrip("#$")
    if not word:
        return []
    if word != token.lower():
        return [word]
    clitic = _CLITIC.match(word)
    if clitic:
        return [clitic.group(1), clitic.group(2)]
    parts = [p for p in re.split(r"[-/]", word) if p]
    return parts if len(parts) > 1 else []


@dataclass(frozen=True)
class Coverage:
    """How many vocabulary entries (specials excluded) got a pretrained vector: ``found`` the
    word itself (or its lower case), ``pieces`` the mean of its pieces."""

    found: int
    total: int
    pieces: int = 0

    @property
    def ratio(self) -> float:
        """``found / total`` (1.0 for an empty vocabulary)."""
        return self.found / self.total if self.total else 1.0


def pretrained_matrix(
    vocab: Vocab, words: Sequence[str], vectors: np.ndarray, seed: int = 0
) -> tuple[Tensor, Coverage]:
    """A ``(V, E)`` float32 matrix for ``vocab`` from ``words`` and their ``vectors`` ``(N, E)``.

    See the module docstring for the rows of words the vectors lack.
    """
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[0] == 0:
        raise ShapeError(
            f"word vectors must be (N, E) with N = {len(words)} words (N > 0), "
            f"got {tuple(vectors.shape)}"
        )
    known = np.asarray(vectors, dtype=np.float64)
    mean, std = known.mean(axis=0), known.std(axis=0)
    rng = np.random.default_rng(seed)
    out = rng.normal(mean, std, size=(len(vocab), known.shape[1]))
    index: dict[str, int] = {}
    for i, w in enumerate(words):
        index.setdefault(w, i)
    specials = set(vocab.specials)
    found = pieces = 0
    for row, token in enumerate(vocab):
        if token in specials:
            continue
        hit = index.get(token, index.get(token.lower()))
        if hit is not None:
            out[row] = known[hit]
            found += 1
            continue
        hits = [index[p] for p in word_pieces(token) if p in index]
        if hits and len(hits) == len(word_pieces(token)):
            out[row] = known[hits].mean(axis=0)
            pieces += 1
    if PAD in vocab:
        out[vocab.pad_id] = 0.0
    coverage = Coverage(found + pieces, len(vocab) - len(specials), pieces)
    return torch.from_numpy(out.astype(np.float32)), coverage


#: Below this share of the training vocabulary found in pretrained vectors, they are not used.
MIN_COVERAGE = 0.5


def read_vectors(spec: str) -> tuple[list[str], np.ndarray]:
    """``(words, (N, E) matrix)`` of the word vectors ``spec`` names: a word2vec / GloVe file or
    a named set such as ``glove-6b-50d``."""
    from rnnkit.embeddings.vectors import Vectors  # the word-vector readers (gensim)

    loaded = Vectors.load(spec)
    return list(loaded.words), np.asarray(loaded.matrix)


def load_pretrained(
    spec: str | None,
    vocab: Vocab,
    seed: int = 0,
    vectors: tuple[Sequence[str], np.ndarray] | None = None,
    min_coverage: float = MIN_COVERAGE,
) -> Tensor | None:
    """The ``(V, E)`` initial embeddings of ``vocab`` from the vectors ``spec`` names (read
    here unless ``vectors`` ``(words, (N, E))`` holds them already).

    Returns ``None`` (train from scratch) when there are none, or when the vectors a ``spec``
    names cover less than ``min_coverage`` of the vocabulary (``vectors`` given without a
    ``spec`` are always used): English GloVe on Japanese text, say, would start most rows from
    noise drawn to look like vectors, which trains worse than a plain scratch table, and the
    character encoder carries unseen words better. Coverage is logged either way.
    """
    if spec is None:
        if vectors is None:
            return None
        min_coverage = 0.0
    elif vectors is None:
        vectors = read_vectors(spec)
    matrix, coverage = pretrained_matrix(vocab, vectors[0], vectors[1], seed=seed)
    logger.info(
        "word vectors cover %d of %d words (%.1f%%; %d of them as the mean of their pieces)",
        coverage.found,
        coverage.total,
        100 * coverage.ratio,
        coverage.pieces,
    )
    if coverage.ratio < min_coverage:
        logger.warning(
            "the word vectors %s cover only %.1f%% of the training words (< %.0f%%): training "
            "the embeddings from scratch instead",
            spec,
            100 * coverage.ratio,
            100 * min_coverage,
        )
        return None
    return matrix


class Embedder(nn.Module):
    """A lookup table with dropout: ``e_t = E[w_t]``.

    Args:
        num_embeddings: ``V``, the vocabulary size (``input_size``).
        embedding_dim: ``E`` (``output_size``).
        padding_idx: the id whose row stays zero and gets no gradient.
        freeze: keep the table fixed during training.
        dropout: dropout on the vectors.
        weight: an initial ``(V, E)`` table (e.g. from :func:`pretrained_matrix`).

    Shape:
        - ids: ``(B, T)`` int64 in ``0..V-1``.
        - output: ``(B, T, E)``.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = 0,
        freeze: bool = False,
        dropout: float = 0.0,
        weight: Tensor | None = None,
    ) -> None:
        super().__init__()
        if num_embeddings < 1 or embedding_dim < 1:
            raise ConfigError(
                f"embedding size must be >= 1, got ({num_embeddings}, {embedding_dim})"
            )
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"embedding dropout must be in [0, 1), got {dropout}")
        if weight is not None and tuple(weight.shape) != (num_embeddings, embedding_dim):
            raise ShapeError(
                f"initial embeddings must be ({num_embeddings}, {embedding_dim}), "
                f"got {tuple(weight.shape)}"
            )
        self.embedding = nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx)
        if weight is not None:
            with torch.no_grad():
                self.embedding.weight.copy_(weight)
        self.embedding.weight.requires_grad_(not freeze)
        self.freeze = freeze
        self.dropout = nn.Dropout(dropout)

    @property
    def input_size(self) -> int:
        """``V``: ids must be below it."""
        return int(self.embedding.num_embeddings)

    @property
    def output_size(self) -> int:
        """``E``."""
        return int(self.embedding.embedding_dim)

    def forward(self, ids: Tensor) -> Tensor:
        return self.dropout(self.embedding(ids))  # type: ignore[no-any-return]
