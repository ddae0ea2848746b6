r"""Attention over a padded sequence of encoder states (Bahdanau et al. 2015; Luong et al. 2015).

A query ``q`` (the decoder state) scores every key ``k_s`` (the encoder states), the scores are
normalised over the real source positions only, and the context is the weighted sum of the keys:

.. math::
    \alpha_s = \frac{\exp \mathrm{score}(q, k_s)}{\sum_{s' \le n} \exp \mathrm{score}(q, k_{s'})},
    \qquad c = \sum_s \alpha_s k_s

with the score functions

- ``"additive"`` (Bahdanau et al. 2015, eq. 6; Luong's *concat*):
  :math:`v^\top \tanh(W_q q + W_k k_s)`;
- ``"dot"`` (Luong et al. 2015, eq. 8): :math:`q^\top k_s` (needs ``query_size == key_size``);
- ``"general"`` (Luong et al. 2015, eq. 8): :math:`q^\top W k_s`.

Padded positions get a score of ``-inf`` before the softmax, so their weight is exactly zero and
the weights of each query sum to one over the real positions.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError

__all__ = ["SCORES", "Attended", "Attention"]

SCORES = ("additive", "dot", "general")


class Attended(NamedTuple):
    """``context`` ``(B, [T,] K)`` and ``weights`` ``(B, [T,] S)`` (zero at padding)."""

    context: Tensor
    weights: Tensor


class Attention(nn.Module):
    """Masked attention of queries over keys with an additive, dot or general score.

    Args:
        score: ``"additive"``, ``"dot"`` or ``"general"`` (module docstring).
        query_size: ``Q``, the width of a query.
        key_size: ``K``, the width of a key (and of the context).
        hidden_size: ``A``, the width of the additive score's hidden layer (default ``K``).

    The key-side half of the score does not depend on the query: :meth:`precompute` does it
    once per source sentence, and the result is passed to every decoder step.

    Shape:
        - query: ``(B, Q)`` for one decoder step, or ``(B, T, Q)`` for ``T`` steps at once.
        - keys: ``(B, S, K)``.
        - mask: ``(B, S)`` bool, true at real positions; each row needs at least one.
        - output: :class:`Attended`, context ``(B, [T,] K)``, weights ``(B, [T,] S)``.
    """

    def __init__(
        self, score: str, query_size: int, key_size: int, hidden_size: int | None = None
    ) -> None:
        super().__init__()
        if score not in SCORES:
            raise ConfigError(f"attention score must be one of {', '.join(SCORES)}, got {score!r}")
        if score == "dot" and query_size != key_size:
            raise ConfigError(
                f"dot attention needs query_size == key_size, got {query_size} and {key_size}; "
                "use the general or additive score"
            )
        self.score = score
        self.query_size, self.key_size = query_size, key_size
        self.output_size = key_size
        if score == "additive":
            hidden = hidden_size or key_size
            self.key_proj = nn.Linear(key_size, hidden, bias=False)
            self.query_proj = nn.Linear(query_size, hidden, bias=True)
            self.v = nn.Linear(hidden, 1, bias=False)
        elif score == "general":
            self.key_proj = nn.Linear(key_size, query_size, bias=False)

    def precompute(self, keys: Tensor) -> Tensor:
        """The query-independent part of the score: ``W_k k`` ``(B, S, A)`` for additive,
        ``W k`` ``(B, S, Q)`` for general, the keys themselves for dot."""
        if self.score == "dot":
            return keys
        return self.key_proj(keys)  # type: ignore[no-any-return]

    def scores(self, query: Tensor, projected: Tensor) -> Tensor:
        """Unnormalised scores ``(B, T, S)`` of queries ``(B, T, Q)`` against projected keys."""
        if self.score == "additive":
            q = self.query_proj(query).unsqueeze(2)  # (B, T, 1, A)
            return self.v(torch.tanh(q + projected.unsqueeze(1))).squeeze(3)  # type: ignore[no-any-return]
        return torch.bmm(query, projected.transpose(1, 2))

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor, projected: Tensor | None = None
    ) -> Attended:
        one_step = query.dim() == 2
        q = query.unsqueeze(1) if one_step else query  # (B, T, Q)
        if keys.dim() != 3 or q.dim() != 3 or mask.shape != keys.shape[:2]:
            raise ShapeError(
                f"attention wants query (B, [T,] Q), keys (B, S, K), mask (B, S); got "
                f"{tuple(query.shape)}, {tuple(keys.shape)}, {tuple(mask.shape)}"
            )
        if projected is None:
            projected = self.precompute(keys)
        scores = self.scores(q, projected)  # (B, T, S)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)  # (B, T, K)
        if one_step:
            return Attended(context.squeeze(1), weights.squeeze(1))
        return Attended(context, weights)

    def extra_repr(self) -> str:
        return f"score={self.score!r}, query_size={self.query_size}, key_size={self.key_size}"
