"""Pooling: one vector per sequence from the encoder's states, over real tokens only.

Every pooling takes the states ``(B, T, F)`` and the lengths ``(B,)`` and returns a
:class:`Pooled` ``(vector, weights)``; ``weights`` are the attention weights ``(B, T)`` (zero at
padded steps) or ``None``. Padding never changes a sequence's result.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError

__all__ = [
    "POOLINGS",
    "AttentionPooling",
    "ConcatPooling",
    "LastPooling",
    "MaxPooling",
    "MeanPooling",
    "Pooled",
    "Pooling",
    "length_mask",
    "make_pooling",
]

POOLINGS = ("last", "mean", "max", "attention", "concat")


class Pooled(NamedTuple):
    """``vector`` ``(B, O)``; ``weights`` ``(B, T)`` for attention pooling, else ``None``."""

    vector: Tensor
    weights: Tensor | None


def length_mask(lengths: Tensor, total: int) -> Tensor:
    """``(B, T)`` bool, true at the real (non-padded) steps of each sequence."""
    steps = torch.arange(total, device=lengths.device)
    return steps.unsqueeze(0) < lengths.to(steps.device).unsqueeze(1)


class Pooling(nn.Module):
    """Base class: publishes ``input_size`` ``F`` and ``output_size`` ``O``.

    Shape:
        - states: ``(B, T, F)``, any values at padded steps.
        - lengths: ``(B,)`` integers in ``1..T``.
        - output: :class:`Pooled`, ``vector`` ``(B, O)``.
    """

    def __init__(self, input_size: int) -> None:
        super().__init__()
        if input_size < 1:
            raise ConfigError(f"pooling input_size must be >= 1, got {input_size}")
        self.input_size = input_size

    @property
    def output_size(self) -> int:
        """``O``: the width of the pooled vector (``F`` unless a subclass says otherwise)."""
        return self.input_size

    def _check(self, states: Tensor, lengths: Tensor) -> Tensor:
        if states.ndim != 3 or states.shape[2] != self.input_size:
            raise ShapeError(
                f"{type(self).__name__} expects states (B, T, {self.input_size}), "
                f"got {tuple(states.shape)}"
            )
        if lengths.shape != (states.shape[0],):
            raise ShapeError(f"lengths must be ({states.shape[0]},), got {tuple(lengths.shape)}")
        return length_mask(lengths, states.shape[1])

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:  # pragma: no cover - abstract
        raise NotImplementedError


class LastPooling(Pooling):
    """The classic acceptor (Goldberg 2017, §14.1): the state at the last real token.

    With ``bidirectional``, the first half of the features (forward direction) is read at the last
    real token and the second half (backward direction) at the first token, where the backward
    RNN has read the whole sequence.
    """

    def __init__(self, input_size: int, bidirectional: bool = False) -> None:
        super().__init__(input_size)
        if bidirectional and input_size % 2:
            raise ConfigError(f"bidirectional states need an even width, got {input_size}")
        self.bidirectional = bidirectional

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:
        self._check(states, lengths)
        rows = torch.arange(states.shape[0], device=states.device)
        last = states[rows, lengths.to(states.device) - 1]  # (B, F)
        if not self.bidirectional:
            return Pooled(last, None)
        half = self.input_size // 2
        return Pooled(torch.cat([last[:, :half], states[:, 0, half:]], dim=1), None)


class MeanPooling(Pooling):
    """The average of the states over the real tokens."""

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:
        mask = self._check(states, lengths).unsqueeze(2)
        total = states.masked_fill(~mask, 0.0).sum(dim=1)
        return Pooled(total / lengths.to(states.device, states.dtype).unsqueeze(1), None)


class MaxPooling(Pooling):
    """The element-wise maximum of the states over the real tokens (Collobert et al. 2011)."""

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:
        mask = self._check(states, lengths).unsqueeze(2)
        return Pooled(states.masked_fill(~mask, float("-inf")).amax(dim=1), None)


class ConcatPooling(Pooling):
    r"""ULMFiT's concat pooling (Howard & Ruder 2018, §3.3): the last state, the element-wise
    maximum and the mean over the real tokens, side by side.

    .. math:: h_c = [h_T; \mathrm{maxpool}(H); \mathrm{meanpool}(H)]

    ``h_T`` is read as :class:`LastPooling` reads it (with ``bidirectional``, the backward half
    at the first token); the maximum and the mean are :class:`MaxPooling` 's and
    :class:`MeanPooling` 's.

    Shape:
        - output: ``vector`` ``(B, 3F)``; no weights.
    """

    def __init__(self, input_size: int, bidirectional: bool = False) -> None:
        super().__init__(input_size)
        self.last = LastPooling(input_size, bidirectional)
        self.max = MaxPooling(input_size)
        self.mean = MeanPooling(input_size)

    @property
    def output_size(self) -> int:
        """``3F``."""
        return 3 * self.input_size

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:
        parts = [pool(states, lengths).vector for pool in (self.last, self.max, self.mean)]
        return Pooled(torch.cat(parts, dim=1), None)


class AttentionPooling(Pooling):
    r"""A weighted average of the states, the weights learned (attention over time).

    With ``hidden_size=None``, DeepMoji's attention layer (Felbo et al. 2017, eq. 1):

    .. math:: e_t = h_t w_a, \quad a_t = \frac{\exp e_t}{\sum_i \exp e_i}, \quad v = \sum_t a_t h_t

    With ``hidden_size=A``, Yang et al. (2016, eq. 5-7): :math:`u_t = \tanh(W h_t + b)`,
    :math:`e_t = u_t^\top u_w`. The softmax runs over the real tokens only.

    Args:
        input_size: ``F``.
        hidden_size: ``A``, or ``None`` for DeepMoji's single scoring vector.

    Shape:
        - weights: ``(B, T)``, summing to 1 over each sequence's real tokens, 0 at padding.
    """

    def __init__(self, input_size: int, hidden_size: int | None = None) -> None:
        super().__init__(input_size)
        if hidden_size is not None and hidden_size < 1:
            raise ConfigError(f"attention hidden_size must be >= 1 or None, got {hidden_size}")
        self.hidden_size = hidden_size
        self.project = nn.Linear(input_size, hidden_size) if hidden_size is not None else None
        self.context = nn.Linear(hidden_size or input_size, 1, bias=False)

    def forward(self, states: Tensor, lengths: Tensor) -> Pooled:
        mask = self._check(states, lengths)
        states = states.masked_fill(~mask.unsqueeze(2), 0.0)  # 0·inf at padding would give NaN
        keys = torch.tanh(self.project(states)) if self.project is not None else states
        scores = self.context(keys).squeeze(2).masked_fill(~mask, float("-inf"))  # (B, T)
        # softmax in at least float32: bf16 autocast would round the weights too coarsely
        dtype = torch.promote_types(scores.dtype, torch.float32)
        weights = torch.softmax(scores, dim=1, dtype=dtype).to(states.dtype)
        return Pooled(torch.bmm(weights.unsqueeze(1), states).squeeze(1), weights)


def make_pooling(
    name: str, input_size: int, bidirectional: bool = False, attention_size: int | None = None
) -> Pooling:
    """The pooling called ``name`` (one of :data:`POOLINGS`) over states of width ``input_size``."""
    if name == "last":
        return LastPooling(input_size, bidirectional)
    if name == "mean":
        return MeanPooling(input_size)
    if name == "max":
        return MaxPooling(input_size)
    if name == "attention":
        return AttentionPooling(input_size, attention_size)
    if name == "concat":
        return ConcatPooling(input_size, bidirectional)
    raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {name!r}")
