r"""The bag of n-grams as an ensemble member: TF-IDF + logistic regression over the classifier's
own token ids, fitted by scikit-learn and run by PyTorch.

Mesnil et al. (2015) led IMDB by averaging an RNN's probabilities with a bag-of-n-grams
model's: the two make different mistakes. :class:`TfidfLogReg` is that second model. A text's
features are its word uni- and bigrams hashed into ``buckets`` columns
(:func:`rnnkit.nn.ngrams.ngram_hashes`, so no string vocabulary is stored), weighted as
scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` weighs them:

.. math::
    x_j = \frac{(1 + \ln \mathrm{tf}_j) \cdot \mathrm{idf}_j}{\lVert \cdot \rVert_2}, \qquad
    \mathrm{idf}_j = \ln\frac{1 + N}{1 + \mathrm{df}_j} + 1, \qquad
    p(y \mid x) = \mathrm{softmax}(x W + b)

:func:`fit_tfidf_logreg` fits ``W, b`` with scikit-learn's logistic regression (``C`` chosen on
dev macro-F1, as ``rnnkit baseline tfidf`` does) on the same features computed here, and keeps
them as buffers: the member is saved in ``model.safetensors`` with the rest and predicts
identically after loading.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.data.batching import PaddedBatch
from rnnkit.nn.ngrams import ngram_hashes
from rnnkit.training.metrics import classification_report

__all__ = ["TfidfLogReg", "fit_tfidf_logreg"]

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)


class TfidfLogReg(nn.Module):
    """Logistic regression on hashed TF-IDF n-gram features of token ids (module docstring).

    Shape:
        - batch: ``ids`` ``(B, T)``, ``lengths`` ``(B,)``; output: probabilities ``(B, C)``.
    """

    def __init__(self, num_labels: int, buckets: int = 2**18, n: int = 2) -> None:
        super().__init__()
        self.buckets, self.n = buckets, n
        self.idf: Tensor
        self.weight: Tensor
        self.bias: Tensor
        self.register_buffer("idf", torch.ones(buckets))
        self.register_buffer("weight", torch.zeros(buckets, num_labels))
        self.register_buffer("bias", torch.zeros(num_labels))

    def counts(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Sparse n-gram counts: ``(rows, columns, counts)`` of every (text, bucket) present."""
        codes, mask = ngram_hashes(ids, lengths, self.n)
        rows = torch.arange(ids.shape[0], device=ids.device).unsqueeze(1).expand_as(codes)
        keys = rows[mask] * self.buckets + codes[mask] % self.buckets
        unique, counts = torch.unique(keys, return_counts=True)
        return unique // self.buckets, unique % self.buckets, counts

    def features(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(rows, columns, values)`` of the L2-normalised sublinear TF-IDF matrix."""
        rows, cols, counts = self.counts(ids, lengths)
        values = (1.0 + torch.log(counts.double())) * self.idf.double()[cols]
        norms = torch.zeros(ids.shape[0], dtype=torch.float64, device=ids.device)
        norms.index_add_(0, rows, values * values)
        return rows, cols, values / norms.sqrt().clamp_min(1e-12)[rows]

    def forward(self, batch: PaddedBatch) -> Tensor:
        rows, cols, values = self.features(batch.ids, batch.lengths)
        scores = self.bias.double().expand(batch.ids.shape[0], -1).clone()  # (B, C)
        scores.index_add_(0, rows, values.unsqueeze(1) * self.weight.double()[cols])
        return torch.softmax(scores, dim=1).float()


def _matrix(member: TfidfLogReg, batches: Sequence[PaddedBatch]) -> tuple[object, list[int]]:
    """The scipy CSR feature matrix of ``batches`` (rows in input order) and the labels."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    rows, cols, values, labels, order, offset = [], [], [], [], [], 0
    for batch in batches:
        r, c, v = member.features(batch.ids, batch.lengths)
        rows.append((r + offset).numpy())
        cols.append(c.numpy())
        values.append(v.numpy())
        assert batch.labels is not None and batch.index is not None
        labels += batch.labels.tolist()
        order += batch.index.tolist()
        offset += batch.ids.shape[0]
    shape = (offset, member.buckets)
    x = csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape)
    inverse = np.argsort(np.asarray(order))
    return x[inverse], [labels[i] for i in inverse]


def fit_tfidf_logreg(
    num_labels: int, train: Sequence[PaddedBatch], dev: Sequence[PaddedBatch], seed: int = 0
) -> TfidfLogReg:
    """A :class:`TfidfLogReg` fitted on labelled ``train`` batches, ``C`` chosen on ``dev``."""
    from sklearn.linear_model import LogisticRegression

    member = TfidfLogReg(num_labels)
    df = torch.zeros(member.buckets, dtype=torch.float64)
    documents = 0
    for batch in train:
        _, cols, _ = member.counts(batch.ids, batch.lengths)
        df.index_add_(0, cols, torch.ones_like(cols, dtype=torch.float64))
        documents += batch.ids.shape[0]
    member.idf.copy_(torch.log((1 + documents) / (1 + df)) + 1)
    x_train, y_train = _matrix(member, train)
    x_dev, y_dev = _matrix(member, dev)
    best, best_score = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=1000, random_state=seed)
        model.fit(x_train, y_train)
        predicted = [str(y) for y in model.predict(x_dev)]
        score = classification_report([str(y) for y in y_dev], predicted).macro_f1
        if score > best_score:
            best, best_score = model, score
    assert best is not None
    coef, intercept = best.coef_, best.intercept_
    if coef.shape[0] == 1:  # two classes: sigmoid(z) is the softmax of (-z/2, z/2)
        coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
    member.weight[:, best.classes_] = torch.from_numpy(coef.T).float()
    member.bias[best.classes_] = torch.from_numpy(intercept).float()
    return member
