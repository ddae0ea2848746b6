"""GloVe (Pennington, Socher & Manning 2014), trained in rnnkit.

Minimises eq. 8 over the non-zero co-occurrences ``X_ij``::

    J = Σ_ij f(X_ij) (w_iᵀ w̃_j + b_i + b̃_j − log X_ij)²,   f(x) = min(1, (x / x_max)^α)

with AdaGrad as the reference code (``glove.c``) does it: each parameter steps by
``η g / √G`` and its accumulator ``G`` starts at 1 and grows by ``(η g)²``, the *scaled*
gradient's square. (Accumulating ``g²`` instead, as textbook AdaGrad does, shrinks every
step by a further factor ``η`` once ``G ≫ 1``: 20 times smaller steps at ``η = 0.05``.)
The pairs are visited in shuffled mini-batches: a batch applies the steps its pairs would
take one after the other in the reference code, all against the parameters and accumulators
from before the batch, in one vectorised step (``index_add_`` sums the gradients of a word
that occurs several times in the batch): no Python loop over pairs.
The vectors returned are ``W + W̃`` (§4.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse  # type: ignore[import-untyped]

from rnnkit.errors import ConfigError


@dataclass(frozen=True)
class GloveConfig:
    """GloVe's hyper-parameters (the paper's defaults where it gives them).

    ``x_max = 100`` suits the paper's corpora of billions of tokens. On a few million tokens
    most counts are below 1, so nearly every pair weighs ``f < 0.02`` and training crawls:
    there ``x_max = 10`` (the reference code's demo on text8), ``learning_rate = 0.1``, about
    8 epochs (more over-fit) and a wide co-occurrence window (20 rather than 10) do best on
    3M tokens (``benchmarks/embeddings.py``, RESULTS.md).
    """

    dim: int = 100
    x_max: float = 100.0
    alpha: float = 0.75
    learning_rate: float = 0.05
    epochs: int = 15
    batch_size: int = 32768
    grad_clip: float = 100.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"glove {name} must be at least 1, got {getattr(self, name)}")
        if self.x_max <= 0 or self.learning_rate <= 0:
            raise ConfigError("glove x_max and learning_rate must be positive")


def weighting(x: torch.Tensor, x_max: float, alpha: float) -> torch.Tensor:
    """``f(x) = (x / x_max)^α`` capped at 1 (eq. 9)."""
    return torch.clamp(x / x_max, max=1.0) ** alpha


def glove_loss(
    w: torch.Tensor,
    w_ctx: torch.Tensor,
    b: torch.Tensor,
    b_ctx: torch.Tensor,
    rows: torch.Tensor,
    cols: torch.Tensor,
    x: torch.Tensor,
    config: GloveConfig,
) -> torch.Tensor:
    """The objective ``J`` (eq. 8) over the given pairs; used by tests as the oracle.

    Shape:
        - w, w_ctx: ``(V, D)``; b, b_ctx: ``(V,)``; rows, cols, x: ``(P,)``.
    """
    diff = (w[rows] * w_ctx[cols]).sum(1) + b[rows] + b_ctx[cols] - torch.log(x)
    return (weighting(x, config.x_max, config.alpha) * diff**2).sum()


def train_glove(
    counts: sparse.spmatrix,
    config: GloveConfig,
    progress: Callable[[int, float], None] | None = None,
) -> np.ndarray:
    """Word vectors ``W + W̃`` fitted to the co-occurrence matrix ``counts``.

    Args:
        counts: ``(V, V)`` co-occurrences (:func:`~rnnkit.embeddings.cooccur.cooccurrence`).
        config: hyper-parameters.
        progress: called after each epoch with ``(epoch, mean loss per pair)``.

    Shape:
        - output: ``(V, D)`` float32.
    """
    coo = sparse.coo_matrix(counts)
    keep = coo.data > 0
    rows = torch.from_numpy(coo.row[keep].astype(np.int64))
    cols = torch.from_numpy(coo.col[keep].astype(np.int64))
    x = torch.from_numpy(coo.data[keep].astype(np.float32))
    size, dim = counts.shape[0], config.dim
    gen = torch.Generator().manual_seed(config.seed)
    # (V, D+1) each: the vector and, in the last column, its bias; the reference code's init
    params = [(torch.rand(size, dim + 1, generator=gen) - 0.5) / dim for _ in range(2)]
    squares = [torch.ones(size, dim + 1) for _ in range(2)]
    logx = torch.log(x)
    fx = weighting(x, config.x_max, config.alpha)
    work = _Workspace(size, dim, min(config.batch_size, len(x)))
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            batch = order[start : start + config.batch_size]
            pairs = (rows[batch], cols[batch], logx[batch], fx[batch])
            total += _step(params, squares, *pairs, config, work)
        if progress is not None:
            progress(epoch + 1, total / max(len(x), 1))
    vectors = params[0][:, :dim] + params[1][:, :dim]
    return vectors.numpy().astype(np.float32)


class _Workspace:
    """Buffers reused by every step: allocating batch-sized tensors anew each step costs more
    (page faults) than the arithmetic."""

    def __init__(self, size: int, dim: int, batch: int) -> None:
        self.vectors = [torch.empty(batch, dim + 1) for _ in range(2)]  # (P, D+1) gathered
        self.grads = [torch.empty(batch, dim + 1) for _ in range(2)]  # (P, D+1)
        self.summed = torch.empty(size, dim + 1)  # (V, D+1) per-row gradient sums
        self.root = torch.empty(size, dim + 1)


def _step(
    params: list[torch.Tensor],
    squares: list[torch.Tensor],
    rows: torch.Tensor,
    cols: torch.Tensor,
    logx: torch.Tensor,
    fx: torch.Tensor,
    config: GloveConfig,
    work: _Workspace | None = None,
) -> float:
    """One AdaGrad step on a batch of pairs; returns the batch's ``J / 2``.

    dJ/2/dw_i = f·diff·w̃_j (and symmetrically for w̃_j); a bias's gradient is f·diff itself.
    The word-vector gradients are clipped to ``±grad_clip`` after scaling by ``η`` (the
    reference's ``grad_clip_value``). Rows the batch does not touch get a zero gradient, so
    the dense update leaves them as they are.
    """
    n, dim = len(rows), config.dim
    if work is None:
        work = _Workspace(params[0].shape[0], dim, n)
    word, ctx = (
        torch.index_select(p, 0, i, out=v[:n])
        for p, i, v in zip(params, (rows, cols), work.vectors, strict=True)
    )
    diff = (word[:, :dim] * ctx[:, :dim]).sum(1) + word[:, dim] + ctx[:, dim] - logx  # (P,)
    # the reference scales by η before clipping and accumulating: G grows by (η g)²
    step = (fx * diff * config.learning_rate)[:, None]  # (P, 1)
    for k, (index, other) in enumerate(((rows, ctx), (cols, word))):
        grad = work.grads[k][:n]
        torch.mul(other, step, out=grad).clamp_(-config.grad_clip, config.grad_clip)
        grad[:, dim] = step[:, 0]
        summed = work.summed.zero_().index_add_(0, index, grad)
        # pair by pair as the reference: each steps by η·g/√G with G from before the batch,
        # and G grows by each pair's own (η·g)², not by the square of the row's sum
        params[k].addcdiv_(summed, torch.sqrt(squares[k], out=work.root), value=-1.0)
        squares[k].add_(work.summed.zero_().index_add_(0, index, grad.square_()))
    return float(0.5 * (fx * diff**2).sum())
