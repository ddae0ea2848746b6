r"""The bag of n-grams as an ensemble member: TF-IDF + logistic regression over the classifier's
own token ids (and the characters of its words), fitted by scikit-learn and run by PyTorch.

Mesnil et al. (2015) led IMDB by averaging an RNN's probabilities with a bag-of-n-grams
model's: the two make different mistakes. :class:`TfidfLogReg` is that second model. A text's
features are its word uni- and bigrams hashed into ``buckets`` columns
(:func:`rnnkit.nn.ngrams.ngram_hashes`, so no string vocabulary is stored) and, with
``chars``, a second block of ``buckets`` columns: the character 2- to 5-grams inside each word
between begin and end marks (scikit-learn's ``analyzer="char_wb"``), which words out of the
vocabulary keep, and misspellings, elongations and inflections share. Each block is weighted
as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` weighs it, so the whole is the
``hstack`` of the two vectorizers' rows:

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
from rnnkit.errors import ConfigError
from rnnkit.nn.ngrams import ngram_hashes
from rnnkit.training.metrics import classification_report

__all__ = ["TfidfLogReg", "fit_tfidf_logreg"]

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
#: The orders of the character n-grams inside a word (its begin and end marks included).
CHAR_ORDERS = (2, 5)
_BEGIN, _END = 2**30, 2**30 + 1  # the marks, apart from every character id


class TfidfLogReg(nn.Module):
    """Logistic regression on hashed TF-IDF n-gram features of token ids, and with ``chars`` of
    the characters of each token (module docstring).

    Shape:
        - batch: ``ids`` ``(B, T)``, ``lengths`` ``(B,)``; with ``chars`` a
          :class:`~.model.CharBatch` (``chars`` ``(U, L)``, ``char_lengths`` ``(U,)``,
          ``char_index`` ``(B, T)``); output: probabilities ``(B, C)``.
    """

    def __init__(
        self, num_labels: int, buckets: int = 2**18, n: int = 2, chars: bool = False
    ) -> None:
        super().__init__()
        self.buckets, self.n, self.chars = buckets, n, chars
        self.blocks = 2 if chars else 1
        self.idf: Tensor
        self.weight: Tensor
        self.bias: Tensor
        self.register_buffer("idf", torch.ones(self.blocks * buckets))
        self.register_buffer("weight", torch.zeros(self.blocks * buckets, num_labels))
        self.register_buffer("bias", torch.zeros(num_labels))

    def counts(self, batch: PaddedBatch) -> tuple[Tensor, Tensor, Tensor]:
        """Sparse n-gram counts: ``(rows, columns, counts)`` of every (text, column) present;
        the character n-grams' columns follow the words' ``buckets``."""
        ids, lengths = batch.ids, batch.lengths
        codes, mask = ngram_hashes(ids, lengths, self.n)  # (B, N)
        rows = torch.arange(ids.shape[0], device=ids.device).unsqueeze(1)  # (B, 1)
        keys = [(rows.expand_as(codes) * self.blocks * self.buckets + codes % self.buckets)[mask]]
        if self.chars:
            keys.append(self._char_keys(batch, rows))
        unique, counts = torch.unique(torch.cat(keys), return_counts=True)
        width = self.blocks * self.buckets
        return unique // width, unique % width, counts

    def _char_keys(self, batch: PaddedBatch, rows: Tensor) -> Tensor:
        """The keys (``row * width + column``) of the character n-grams of every token."""
        chars, char_lengths = getattr(batch, "chars", None), getattr(batch, "char_lengths", None)
        where = getattr(batch, "char_index", None)
        if chars is None or char_lengths is None or where is None:
            raise ConfigError("a TF-IDF member of character n-grams needs CharBatch es")
        steps = torch.arange(chars.shape[1] + 2, device=chars.device)
        marked = torch.full((chars.shape[0], chars.shape[1] + 2), _END, device=chars.device)
        marked[:, 0] = _BEGIN  # (U, L + 2): <w> c_1 … c_n </w> </w> …
        marked[:, 1:-1] = torch.where(steps[1:-1] <= char_lengths.unsqueeze(1), chars, _END)
        low, high = CHAR_ORDERS
        codes, mask = ngram_hashes(marked, char_lengths + 2, high)  # orders 1..high: (U, N)
        first = sum(marked.shape[1] - k + 1 for k in range(1, low))  # drop orders below low
        codes, mask = codes[:, first:], mask[:, first:]
        tokens = torch.arange(where.shape[1], device=where.device) < batch.lengths.unsqueeze(1)
        per_token = (codes[where] % self.buckets + self.buckets).flatten(1, 2)  # (B, T * N)
        keep = (mask[where] & tokens.unsqueeze(2)).flatten(1, 2)
        return (rows * self.blocks * self.buckets + per_token)[keep]

    def features(self, batch: PaddedBatch) -> tuple[Tensor, Tensor, Tensor]:
        """``(rows, columns, values)`` of the sublinear TF-IDF matrix, each block of it
        L2-normalised per text."""
        rows, cols, counts = self.counts(batch)
        values = (1.0 + torch.log(counts.double())) * self.idf.double()[cols]
        block = rows * self.blocks + cols // self.buckets  # (text, block) of each entry
        norms = torch.zeros(len(batch) * self.blocks, dtype=torch.float64, device=cols.device)
        norms.index_add_(0, block, values * values)
        return rows, cols, values / norms.sqrt().clamp_min(1e-12)[block]

    def forward(self, batch: PaddedBatch) -> Tensor:
        rows, cols, values = self.features(batch)
        scores = self.bias.double().expand(batch.ids.shape[0], -1).clone()  # (B, C)
        scores.index_add_(0, rows, values.unsqueeze(1) * self.weight.double()[cols])
        return torch.softmax(scores, dim=1).float()


def _matrix(member: TfidfLogReg, batches: Sequence[PaddedBatch]) -> tuple[object, list[int]]:
    """The scipy CSR feature matrix of ``batches`` (rows in input order) and the labels."""
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

    rows, cols, values, labels, order, offset = [], [], [], [], [], 0
    for batch in batches:
        r, c, v = member.features(batch)
        rows.append((r + offset).numpy())
        cols.append(c.numpy())
        values.append(v.numpy())
        assert batch.labels is not None and batch.index is not None
        labels += batch.labels.tolist()
        order += batch.index.tolist()
        offset += batch.ids.shape[0]
    shape = (offset, member.blocks * member.buckets)
    x = csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape)
    inverse = np.argsort(np.asarray(order))
    return x[inverse], [labels[i] for i in inverse]


def fit_tfidf_logreg(
    member: TfidfLogReg,
    train: Sequence[PaddedBatch],
    dev: Sequence[PaddedBatch],
    seed: int = 0,
    partner: np.ndarray | None = None,
) -> TfidfLogReg:
    """Fit ``member`` (a new :class:`TfidfLogReg`) on labelled ``train`` batches, ``C`` chosen
    on ``dev``'s macro-F1; returns it.

    ``partner``: the dev probabilities ``(N, C)`` (rows in the order of ``dev``'s ``index``) of
    the networks the member is averaged with. ``C`` is then the one whose half-and-half
    mixture scores best, not the member alone: a member that is right alone at a small ``C``
    is too timid to overrule the network where the mixture needs it (issue 19, session 9)."""
    from sklearn.linear_model import LogisticRegression

    df = torch.zeros(member.blocks * member.buckets, dtype=torch.float64)
    documents = 0
    for batch in train:
        _, cols, _ = member.counts(batch)
        df.index_add_(0, cols, torch.ones_like(cols, dtype=torch.float64))
        documents += batch.ids.shape[0]
    member.idf.copy_(torch.log((1 + documents) / (1 + df)) + 1)
    x_train, y_train = _matrix(member, train)
    x_dev, y_dev = _matrix(member, dev)
    best, best_score = None, -1.0
    for c in C_GRID:
        model = LogisticRegression(C=c, max_iter=1000, random_state=seed)
        model.fit(x_train, y_train)
        probs = np.zeros((len(y_dev), member.bias.shape[0]))
        probs[:, model.classes_] = model.predict_proba(x_dev)
        if partner is not None:
            probs = (probs + partner) / 2
        predicted = [str(y) for y in probs.argmax(1)]
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
