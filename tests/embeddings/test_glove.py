import numpy as np
import pytest
import torch
from scipy import sparse  # type: ignore[import-untyped]

from rnnkit.embeddings.glove import GloveConfig, _step, glove_loss, train_glove, weighting
from rnnkit.errors import ConfigError


def test_weighting_function():
    x = torch.tensor([1.0, 50.0, 100.0, 400.0])
    want = [(1 / 100) ** 0.75, 0.5**0.75, 1.0, 1.0]
    np.testing.assert_allclose(weighting(x, 100.0, 0.75).numpy(), want, rtol=1e-6)


def test_step_is_adagrad_on_the_objective():
    torch.manual_seed(0)
    config = GloveConfig(dim=4, x_max=10.0, learning_rate=0.1, grad_clip=1e9)
    size = 6
    params = [torch.randn(size, 5) * 0.3 for _ in range(2)]
    rows = torch.tensor([0, 1, 1, 3, 5])
    cols = torch.tensor([2, 2, 4, 3, 0])
    x = torch.tensor([3.0, 12.0, 1.0, 7.0, 2.0])
    # oracle: autograd of J/2 (the 1/2 the reference code's gradient carries)
    w, wc = (p[:, :4].clone().requires_grad_() for p in params)
    b, bc = (p[:, 4].clone().requires_grad_() for p in params)
    half = 0.5 * glove_loss(w, wc, b, bc, rows, cols, x, config)
    gw, gwc, gb, gbc = torch.autograd.grad(half, [w, wc, b, bc])
    grads = [torch.cat([gw, gb[:, None]], 1), torch.cat([gwc, gbc[:, None]], 1)]
    before = [p.clone() for p in params]
    squares = [torch.ones(size, 5) for _ in range(2)]
    fx = weighting(x, config.x_max, config.alpha)
    loss = _step(params, squares, rows, cols, torch.log(x), fx, config)
    assert loss == pytest.approx(float(half))
    # G grows by the square of each pair's own gradient scaled by η (the reference's rule)
    pair_squares = [torch.ones(size, 5) for _ in range(2)]
    for k in range(len(rows)):
        one = 0.5 * glove_loss(w, wc, b, bc, rows[k : k + 1], cols[k : k + 1], x[k : k + 1], config)
        pw, pwc, pb, pbc = torch.autograd.grad(one, [w, wc, b, bc])
        pair_squares[0] += (0.1 * torch.cat([pw, pb[:, None]], 1)) ** 2
        pair_squares[1] += (0.1 * torch.cat([pwc, pbc[:, None]], 1)) ** 2
    for p, p0, g, sq, want in zip(params, before, grads, squares, pair_squares, strict=True):
        torch.testing.assert_close(sq, want)
        torch.testing.assert_close(p, p0 - 0.1 * g)  # G was 1 before the step


def test_training_lowers_the_loss_and_fits_log_counts():
    rng = np.random.default_rng(0)
    true = rng.standard_normal((20, 3))
    counts = np.exp(np.clip(true @ true.T, -2, 4)).round(1)
    seen = []
    config = GloveConfig(dim=8, epochs=40, batch_size=64, x_max=10.0, learning_rate=0.1)
    vectors = train_glove(sparse.csr_matrix(counts), config, lambda e, loss: seen.append(loss))
    assert vectors.shape == (20, 8) and vectors.dtype == np.float32
    assert len(seen) == 40 and seen[-1] < 0.2 * seen[0]
    again = train_glove(sparse.csr_matrix(counts), config)
    np.testing.assert_array_equal(vectors, again)  # same seed, same vectors


def test_bad_config():
    with pytest.raises(ConfigError, match="dim"):
        GloveConfig(dim=0)
    with pytest.raises(ConfigError, match="positive"):
        GloveConfig(x_max=0)
