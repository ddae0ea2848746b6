"""Classical taggers to beat: a feature CRF (crfsuite; Lafferty et al. 2001) and NLTK's
averaged perceptron (Collins 2002), trained on the same sentences as rnnkit's tagger.

The CRF's features are the usual word, shape, affix and neighbour set (the crfsuite POS
tutorial's). ``sklearn-crfsuite`` is a development extra (``pip install rnnkit[dev]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rnnkit.data.records import TaggedSentence

__all__ = ["crf_features", "train_crfsuite", "train_perceptron"]

TagFn = Callable[[Sequence[Sequence[str]]], list[list[str]]]


def crf_features(sentence: Sequence[str], i: int) -> dict[str, Any]:
    """The features of token ``i``: itself, its shape and affixes, and its two neighbours."""
    w = sentence[i]
    f: dict[str, Any] = {
        "bias": 1.0,
        "w.lower": w.lower(),
        "suf3": w[-3:],
        "suf2": w[-2:],
        "pre2": w[:2],
        "pre3": w[:3],
        "upper": w.isupper(),
        "title": w.istitle(),
        "digit": w.isdigit(),
        "hyphen": "-" in w,
        "shape": "".join(
            "X" if c.isupper() else "x" if c.isalpha() else "d" if c.isdigit() else c for c in w[:6]
        ),
    }
    for off in (-2, -1, 1, 2):
        j = i + off
        if 0 <= j < len(sentence):
            f[f"{off}:w.lower"] = sentence[j].lower()
            f[f"{off}:suf3"] = sentence[j][-3:]
            f[f"{off}:title"] = sentence[j].istitle()
        else:
            f[f"{off}:edge"] = True
    return f


def train_crfsuite(train: Sequence[TaggedSentence], max_iterations: int = 100) -> TagFn:
    """A linear-chain CRF (L-BFGS, c1 0.1, c2 0.01) trained on ``train``; returns its tagger."""
    import sklearn_crfsuite

    def feats(tokens: Sequence[str]) -> list[dict[str, Any]]:
        return [crf_features(tokens, i) for i in range(len(tokens))]

    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.01, max_iterations=max_iterations)
    crf.fit([feats(s.tokens) for s in train], [list(s.tags) for s in train])

    def tag(sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [list(t) for t in crf.predict([feats(s) for s in sentences])]

    return tag


def train_perceptron(train: Sequence[TaggedSentence], iterations: int = 5) -> TagFn:
    """NLTK's averaged perceptron tagger trained on ``train``; returns its tagger."""
    from nltk.tag.perceptron import PerceptronTagger

    tagger = PerceptronTagger(load=False)
    tagger.train([list(zip(s.tokens, s.tags, strict=True)) for s in train], nr_iter=iterations)

    def tag(sentences: Sequence[Sequence[str]]) -> list[list[str]]:
        return [[t for _, t in tagger.tag(list(s))] for s in sentences]

    return tag
