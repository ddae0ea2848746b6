"""The bag-of-n-grams member: scikit-learn's TF-IDF features and logistic regression, in torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from rnnkit.data.batching import make_batches
from rnnkit.models.classify.wide import TfidfLogReg, fit_tfidf_logreg

DOCS = [[2, 3, 4, 3], [5, 6], [2, 2, 2], [7], [3, 4, 5, 6, 7]]


def test_features_are_sklearns_sublinear_tfidf():
    member = TfidfLogReg(num_labels=2, buckets=2**20)  # no collisions among these n-grams
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), analyzer=lambda d: _grams(d), lowercase=False
    )
    expected = vectorizer.fit_transform(DOCS)
    batch = make_batches(DOCS, [0, 1, 0, 1, 0], batch_size=8, bucket=0)[0]
    _, cols, _ = member.counts(batch.ids, batch.lengths)
    df = torch.zeros(member.buckets, dtype=torch.float64)
    df.index_add_(0, cols, torch.ones_like(cols, dtype=torch.float64))
    member.idf.copy_(torch.log((1 + len(DOCS)) / (1 + df)) + 1)
    rows, _, values = member.features(batch.ids, batch.lengths)
    assert batch.index is not None
    order = batch.index.tolist()
    for r in range(len(DOCS)):
        ours = sorted(values[rows == r].tolist())
        theirs = sorted(expected[order[r]].data.tolist())
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def _grams(doc: list[int]) -> list[str]:
    words = [str(w) for w in doc]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@pytest.mark.parametrize("labels", [[0, 1, 0, 1, 0], [0, 1, 2, 1, 2]])
def test_the_fitted_member_predicts_as_sklearn_does(labels):
    batches = make_batches(DOCS, labels, batch_size=2, bucket=0)
    member = fit_tfidf_logreg(max(labels) + 1, batches, batches)
    x = np.zeros((len(DOCS), member.buckets))
    index = []
    for batch in batches:
        assert batch.index is not None
        index.append(batch.index)
        r, cols, v = member.features(batch.ids, batch.lengths)
        for i, j, value in zip(r.tolist(), cols.tolist(), v.tolist(), strict=True):
            x[batch.index[i], j] = value
    used = np.flatnonzero(x.any(0))
    probs = torch.cat([member(b) for b in batches]).numpy()
    order = torch.cat(index).numpy()
    assert probs.shape == (5, max(labels) + 1)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        reference = LogisticRegression(C=c, max_iter=1000, random_state=0)
        reference.fit(x[:, used], labels)
        if np.allclose(reference.predict_proba(x[order][:, used]), probs, atol=1e-4):
            return
    raise AssertionError("no C of the grid gives the member's probabilities")
