"""Word–context co-occurrence counts in a sparse matrix (memory ∝ non-zero pairs, not V²).

Within a window of ``window`` tokens on each side and inside one sentence, a pair at distance
``d`` adds ``1/d`` (``weighting="harmonic"``, GloVe's, Pennington et al. 2014 §4.2) or ``1``
(``"flat"``). Counts are symmetric: ``X[i, j] == X[j, i]``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from rnnkit.embeddings.corpus import Encoded
from rnnkit.errors import ConfigError

Weighting = Literal["harmonic", "flat"]


def cooccurrence(
    corpus: Encoded, window: int = 10, weighting: Weighting = "harmonic"
) -> sparse.csr_matrix:
    """The symmetric ``(V, V)`` float64 co-occurrence matrix of ``corpus``.

    Vectorised by offset: for each ``d`` in ``1..window`` all pairs ``(t_k, t_{k+d})`` of the
    corpus are summed at once into a CSR matrix, so the peak memory is that matrix plus one
    offset's pairs.
    """
    if window < 1:
        raise ConfigError(f"window must be at least 1, got {window}")
    if weighting not in ("harmonic", "flat"):
        raise ConfigError(f"unknown weighting {weighting!r}; use harmonic or flat")
    size = len(corpus.words)
    upper = sparse.csr_matrix((size, size), dtype=np.float64)
    ids, sentence = corpus.ids, corpus.sentence
    for d in range(1, min(window, len(ids) - 1) + 1):
        same = sentence[:-d] == sentence[d:]
        left, right = ids[:-d][same], ids[d:][same]
        weight = 1.0 / d if weighting == "harmonic" else 1.0
        data = np.full(len(left), weight)
        upper = upper + sparse.csr_matrix((data, (left, right)), shape=(size, size))
    counts: sparse.csr_matrix = (upper + upper.T).tocsr()
    counts.sum_duplicates()
    return counts
