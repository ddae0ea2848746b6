"""Count-based vectors: truncated SVD of PPMI (Levy, Goldberg & Dagan 2015) or of raw counts.

PPMI with context-distribution smoothing (Levy et al. 2015, §3.1 "cds")::

    PPMI(w, c) = max(0, log P(w, c) / (P(w) P_α(c))),   P_α(c) = #(c)^α / Σ_c' #(c')^α

then ``W = U_d Σ_d^p`` from the rank-``d`` SVD (``p`` the eigenvalue weighting, §3.3; ``p =
0.5`` by default). The plain count-SVD factorises the co-occurrence counts themselves (``W =
U_d Σ_d``), the baseline of the textbook.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from rnnkit.errors import ConfigError


def ppmi(counts: sparse.spmatrix, alpha: float = 0.75) -> sparse.csr_matrix:
    """The sparse PPMI matrix of ``(V, V)`` co-occurrence counts (only positive entries kept)."""
    if not 0 < alpha <= 1:
        raise ConfigError(f"context smoothing alpha must be in (0, 1], got {alpha}")
    coo = sparse.coo_matrix(counts, dtype=np.float64)
    total = coo.data.sum()
    word = np.asarray(coo.sum(axis=1)).ravel() / total
    context = np.asarray(coo.sum(axis=0)).ravel() ** alpha
    context /= context.sum()
    pmi = np.log(coo.data / total) - np.log(word[coo.row]) - np.log(context[coo.col])
    keep = pmi > 0
    shape = counts.shape
    result: sparse.csr_matrix = sparse.csr_matrix(
        (pmi[keep], (coo.row[keep], coo.col[keep])), shape=shape
    )
    return result


def truncated_svd(matrix: sparse.spmatrix, dim: int, power: float, seed: int = 0) -> np.ndarray:
    """``U_d Σ_d^power`` of a sparse matrix, by randomised SVD (scikit-learn).

    Shape:
        - output: ``(V, dim)`` float32.
    """
    from sklearn.utils.extmath import randomized_svd

    if not 1 <= dim < min(matrix.shape):
        raise ConfigError(f"dim must be in [1, {min(matrix.shape) - 1}], got {dim}")
    u, s, _ = randomized_svd(matrix, dim, n_iter=5, random_state=seed)
    vectors: np.ndarray = (u * s**power).astype(np.float32)
    return vectors
