"""Dropout for recurrent networks: locked (variational), word, and recurrent-state masks.

- :class:`LockedDropout`: one mask per sequence, the same at every time step, on a layer's
  inputs or outputs (Gal & Ghahramani 2016, "A Theoretically Grounded Application of Dropout in
  Recurrent Neural Networks"; ``LockedDropout`` of Merity et al. 2017).
- :class:`WordDropout` / :func:`embedding_dropout`: drop whole word types (every occurrence of a
  word in the batch) or single tokens by zeroing their embedding vectors (Gal & Ghahramani 2016
  §4; ``embedded_dropout`` of Merity et al. 2017).
- :func:`recurrent_dropout_mask`: the mask on ``h_{t-1}`` inside the explicit cells (Gal &
  Ghahramani 2016; Keras' ``recurrent_dropout``), used by :class:`~rnnkit.nn.RNN`.

Every mask is scaled by ``1/(1-p)`` so that expectations match evaluation, where nothing is
dropped.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError


def _check_p(p: float) -> float:
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"dropout probability must be in [0, 1), got {p}")
    return float(p)


def _bernoulli_mask(shape: tuple[int, ...], p: float, like: Tensor) -> Tensor:
    return like.new_empty(shape).bernoulli_(1.0 - p).div_(1.0 - p)


def recurrent_dropout_mask(batch_size: int, hidden_size: int, p: float, like: Tensor) -> Tensor:
    """A ``(B, H)`` mask for ``h_{t-1}``, drawn once per sequence and shared across steps."""
    return _bernoulli_mask((batch_size, hidden_size), _check_p(p), like)


class LockedDropout(nn.Module):
    """Variational dropout: the same units dropped at every time step of a sequence.

    Args:
        p: probability of dropping a unit.
        batch_first: inputs are ``(B, T, F)`` if true, else ``(T, B, F)``.

    Shape:
        - x: ``(B, T, F)`` (or ``(T, B, F)``); the output has the same shape.
    """

    def __init__(self, p: float = 0.5, batch_first: bool = True) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.batch_first = batch_first

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if x.dim() != 3:
            raise ConfigError(f"LockedDropout expects a 3-D tensor, got shape {tuple(x.shape)}")
        b, t, f = x.shape
        shape = (b, 1, f) if self.batch_first else (1, t, f)
        return x * _bernoulli_mask(shape, self.p, x)

    def extra_repr(self) -> str:
        return f"p={self.p}, batch_first={self.batch_first}"


def embedding_dropout(
    weight: Tensor,
    ids: Tensor,
    p: float,
    *,
    training: bool = True,
    padding_idx: int | None = None,
) -> Tensor:
    """Look up ``ids`` in ``weight`` ``(V, E)`` with whole rows (word types) dropped.

    A dropped type is zero at every one of its positions in the batch; kept rows are scaled by
    ``1/(1-p)``. Returns ``ids.shape + (E,)``.
    """
    p = _check_p(p)
    if training and p > 0.0:
        weight = weight * _bernoulli_mask((weight.shape[0], 1), p, weight)
    return nn.functional.embedding(ids, weight, padding_idx=padding_idx)


class WordDropout(nn.Module):
    """Drop words by zeroing their embedding vectors.

    ``unit="type"`` drops word types: the same word is dropped at all its positions in the batch
    (a mask over the distinct ids of the batch, equal to :func:`embedding_dropout`, without
    needing the embedding matrix). ``unit="token"`` drops single positions.

    Args:
        p: probability of dropping a word.
        unit: ``"type"`` or ``"token"``.

    Shape:
        - embedded: ``(B, T, E)``
        - ids: ``(B, T)``, needed for ``unit="type"``
        - output: ``(B, T, E)``
    """

    def __init__(self, p: float = 0.1, unit: str = "type") -> None:
        super().__init__()
        if unit not in ("type", "token"):
            raise ConfigError(f"WordDropout unit must be 'type' or 'token', got {unit!r}")
        self.p = _check_p(p)
        self.unit = unit

    def forward(self, embedded: Tensor, ids: Tensor | None = None) -> Tensor:
        if not self.training or self.p == 0.0:
            return embedded
        if self.unit == "token":
            return embedded * _bernoulli_mask((*embedded.shape[:-1], 1), self.p, embedded)
        if ids is None or ids.shape != embedded.shape[:-1]:
            raise ConfigError("WordDropout(unit='type') needs ids shaped like embedded[..., 0]")
        types, inverse = torch.unique(ids, return_inverse=True)
        keep = _bernoulli_mask((types.numel(),), self.p, embedded)
        return embedded * keep[inverse].unsqueeze(-1)

    def extra_repr(self) -> str:
        return f"p={self.p}, unit={self.unit!r}"
