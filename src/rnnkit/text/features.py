"""Sparse document features through scikit-learn: one-hot, bag of words, TF-IDF.

Documents are either raw strings, tokenized by the ``tokenizer`` given (a
:class:`~rnnkit.text.pipeline.Pipeline` or any ``str -> list[str]``), or, with
``tokenizer=None``, lists of tokens already. Word n-grams come from scikit-learn
(``ngram_range``), built on the tokens.

TF-IDF, for term ``t`` in document ``d`` of a collection of ``N`` documents, ``t`` occurring
in ``df(t)`` of them, ``tf(t, d)`` the count of ``t`` in ``d``:

======================  ====================================  ===============================
``idf=``                idf(t)                                scikit-learn setting
======================  ====================================  ===============================
``"smooth"`` (default)  ``ln((1 + N) / (1 + df(t))) + 1``     ``smooth_idf=True``
``"plain"``             ``ln(N / df(t)) + 1``                 ``smooth_idf=False``
``"classic"``           ``ln(N / df(t))``                     none: ``smooth_idf=False``, then
                                                              ``idf_ - 1`` (see below)
======================  ====================================  ===============================

and ``tfidf(t, d) = tf(t, d) · idf(t)`` (``1 + ln tf`` with ``sublinear_tf``), each row then
scaled to unit L2 norm unless ``norm=None``. The textbook formula ``tf × log(N/df)`` (Salton &
Buckley 1988; Jurafsky & Martin, ch. 6) is **not** any setting of scikit-learn's
``TfidfVectorizer``/``TfidfTransformer``: both always add 1 to the logarithm (so that a term
in every document keeps weight 1 instead of 0). ``idf="classic"`` with ``norm=None`` gives it
exactly, by fitting with ``smooth_idf=False`` and subtracting that 1 from the learnt
``idf_`` (:class:`ClassicTfidfVectorizer`). Logarithms are natural; another base only
rescales the classic weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from rnnkit.errors import ConfigError

IDF_CHOICES: tuple[str, ...] = ("smooth", "plain", "classic")


def _identity(doc: Any) -> Any:
    # module level (not a lambda) so that fitted vectorizers can be pickled by scikit-learn
    return doc


def _text_options(tokenizer: Callable[[str], list[str]] | None) -> dict[str, Any]:
    return {
        "tokenizer": tokenizer if tokenizer is not None else _identity,
        "token_pattern": None,
        "lowercase": False,
    }


def bag_of_words(
    tokenizer: Callable[[str], list[str]] | None = None,
    *,
    binary: bool = False,
    ngram_range: tuple[int, int] = (1, 1),
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    max_features: int | None = None,
    vocabulary: Iterable[str] | None = None,
) -> CountVectorizer:
    """A ``CountVectorizer`` of term counts (``binary=True``: presence, 0/1).

    Case is left to the tokenizer (add ``"lower"`` to the pipeline).

    Shape:
        ``fit_transform(docs)``: ``(N, V)`` sparse, ``V`` distinct terms (n-grams).
    """
    return CountVectorizer(
        binary=binary,
        ngram_range=ngram_range,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        vocabulary=vocabulary,
        **_text_options(tokenizer),
    )


def one_hot(tokenizer: Callable[[str], list[str]] | None = None, **options: Any) -> CountVectorizer:
    """Document one-hot (set-of-words) features: :func:`bag_of_words` with ``binary=True``."""
    return bag_of_words(tokenizer, binary=True, **options)


class ClassicTfidfVectorizer(TfidfVectorizer):  # type: ignore[misc]  # sklearn is untyped
    """``TfidfVectorizer`` with ``idf(t) = ln(N / df(t))``: the textbook TF-IDF.

    Fits as ``TfidfVectorizer(smooth_idf=False)``, whose idf is ``ln(N/df) + 1``, then
    subtracts 1 from ``idf_``; a term in every document gets weight 0. Requires
    ``smooth_idf=False`` and ``use_idf=True``.
    """

    idf_: np.ndarray  # annotation only: the property of TfidfVectorizer stays in place

    def fit(self, raw_documents: Iterable[Any], y: Any = None) -> ClassicTfidfVectorizer:
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents: Iterable[Any], y: Any = None) -> Any:
        if self.smooth_idf or not self.use_idf:
            raise ConfigError("classic TF-IDF needs smooth_idf=False and use_idf=True")
        docs = raw_documents if isinstance(raw_documents, Sequence) else list(raw_documents)
        super().fit(docs)
        self.idf_ = self.idf_ - 1.0
        return self.transform(docs)


def tfidf(
    tokenizer: Callable[[str], list[str]] | None = None,
    *,
    idf: str = "smooth",
    norm: Literal["l1", "l2"] | None = "l2",
    sublinear_tf: bool = False,
    ngram_range: tuple[int, int] = (1, 1),
    min_df: int | float = 1,
    max_df: int | float = 1.0,
    max_features: int | None = None,
) -> TfidfVectorizer:
    """A TF-IDF vectorizer; ``idf`` picks the formula (module docstring table).

    ``tfidf(idf="classic", norm=None)`` computes exactly ``tf × ln(N/df)``.

    Shape:
        ``fit_transform(docs)``: ``(N, V)`` sparse float64.
    """
    if idf not in IDF_CHOICES:
        raise ConfigError(f"idf must be one of {', '.join(IDF_CHOICES)}, got {idf!r}")
    cls = ClassicTfidfVectorizer if idf == "classic" else TfidfVectorizer
    return cls(
        norm=norm,
        use_idf=True,
        smooth_idf=idf == "smooth",
        sublinear_tf=sublinear_tf,
        ngram_range=ngram_range,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        **_text_options(tokenizer),
    )


def one_hot_ids(ids: Sequence[int] | np.ndarray, size: int) -> np.ndarray:
    """One-hot rows for a sequence of token ids (the input encoding of Goldberg 2017, §8.1).

    Shape:
        ``ids``: ``(T,)`` ints in ``[0, size)``; output: ``(T, size)`` float32.
    """
    arr = np.asarray(ids, dtype=np.int64)
    if arr.ndim != 1:
        raise ConfigError(f"one_hot_ids expects a 1-D id sequence, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        raise ConfigError(f"ids must lie in [0, {size}), got {arr.min()}..{arr.max()}")
    out = np.zeros((arr.size, size), dtype=np.float32)
    out[np.arange(arr.size), arr] = 1.0
    return out


__all__ = [
    "IDF_CHOICES",
    "ClassicTfidfVectorizer",
    "bag_of_words",
    "one_hot",
    "one_hot_ids",
    "tfidf",
]
