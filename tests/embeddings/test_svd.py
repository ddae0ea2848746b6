import numpy as np
import pytest
from scipy import sparse  # type: ignore[import-untyped]

from rnnkit.embeddings.svd import ppmi, truncated_svd
from rnnkit.errors import ConfigError


def dense_ppmi(counts, alpha):
    total = counts.sum()
    pw = counts.sum(1, keepdims=True) / total
    pc = counts.sum(0, keepdims=True) ** alpha
    pc = pc / pc.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / total) - np.log(pw) - np.log(pc)
    return np.where(counts > 0, np.maximum(pmi, 0), 0)


@pytest.mark.parametrize("alpha", [1.0, 0.75])
def test_ppmi_matches_dense_formula(alpha):
    rng = np.random.default_rng(0)
    counts = rng.poisson(1.0, size=(15, 15)).astype(float)
    counts = counts + counts.T
    got = ppmi(sparse.csr_matrix(counts), alpha).toarray()
    np.testing.assert_allclose(got, dense_ppmi(counts, alpha), atol=1e-12)
    assert (got >= 0).all()


def test_truncated_svd_matches_numpy():
    rng = np.random.default_rng(1)
    m = rng.random((30, 30))
    m = m @ m.T
    got = truncated_svd(sparse.csr_matrix(m), 4, power=0.5)
    u, s, _ = np.linalg.svd(m)
    want = u[:, :4] * s[:4] ** 0.5
    # columns are defined up to sign
    np.testing.assert_allclose(np.abs(got), np.abs(want), rtol=1e-3, atol=1e-4)


def test_bad_options():
    m = sparse.csr_matrix(np.ones((5, 5)))
    with pytest.raises(ConfigError, match="alpha"):
        ppmi(m, 0.0)
    with pytest.raises(ConfigError, match="dim"):
        truncated_svd(m, 5, 0.5)
