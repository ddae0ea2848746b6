"""Training corpora for word vectors: sentences of tokens, a frequency-sorted vocabulary, ids.

A corpus is a plain UTF-8 text file (one sentence or paragraph per line, tokens split on
whitespace), a data-set split (``ptb:train``), or sentences already tokenised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rnnkit.errors import DataFormatError, RnnkitError

Corpus = str | Path | Iterable[Sequence[str]]


def read_corpus(source: Corpus, lowercase: bool = False) -> list[list[str]]:
    """Sentences of tokens from a file, a ``NAME:SPLIT`` data set, or token lists.

    Raises:
        DataFormatError: unreadable or not UTF-8; RnnkitError: no tokens at all.
    """
    if isinstance(source, str | Path):
        from rnnkit.data.datasets import resolve

        path = resolve(str(source))
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise DataFormatError(path, f"not UTF-8: {e}") from None
        except OSError as e:
            raise DataFormatError(path, f"cannot read: {e.strerror}") from None
        lines: Iterable[Sequence[str]] = (line.split() for line in text.splitlines())
    else:
        lines = source
    sentences = [[t.lower() if lowercase else t for t in s] for s in lines]
    sentences = [s for s in sentences if s]
    if not sentences:
        raise RnnkitError("the corpus holds no tokens")
    return sentences


@dataclass(frozen=True)
class Encoded:
    """A corpus as ids over a frequency-sorted vocabulary, out-of-vocabulary tokens dropped.

    Shape:
        - ids, sentence: ``(N,)`` int64, the id and sentence number of each kept token.
        - counts: ``(V,)`` int64, corpus frequency of each word.
    """

    words: list[str]
    counts: npt.NDArray[np.int64]
    ids: npt.NDArray[np.int64]
    sentence: npt.NDArray[np.int64]
    tokens: int


def encode(sentences: list[list[str]], min_count: int = 5, max_vocab: int | None = None) -> Encoded:
    """Keep words seen ``min_count`` times (the ``max_vocab`` most frequent), most frequent
    first, ties in first-seen order; map tokens to ids.

    Raises:
        RnnkitError: no word is frequent enough.
    """
    counter = Counter(t for s in sentences for t in s)
    ranked = [(w, c) for w, c in counter.most_common(max_vocab) if c >= min_count]
    if not ranked:
        raise RnnkitError(f"no word occurs {min_count} times; lower min_count")
    words = [w for w, _ in ranked]
    index = {w: i for i, w in enumerate(words)}
    ids: list[int] = []
    sentence: list[int] = []
    for n, s in enumerate(sentences):
        kept = [index[t] for t in s if t in index]
        ids += kept
        sentence += [n] * len(kept)
    return Encoded(
        words,
        np.array([c for _, c in ranked], dtype=np.int64),
        np.array(ids, dtype=np.int64),
        np.array(sentence, dtype=np.int64),
        tokens=sum(counter.values()),
    )
