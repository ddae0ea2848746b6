r"""A hierarchical encoder for long documents (Li et al. 2015; Tang et al. 2015; Yang et al. 2016).

A document is cut into spans at sentence punctuation; a bidirectional RNN reads each span's
words and a pooling turns its states into one span vector; a second RNN reads the span vectors:

.. math::
    u_s = \mathrm{pool}(\mathrm{BiRNN}_w(e_{s,1:L_s})), \qquad
    h_{1:S} = \mathrm{BiRNN}_s(u_{1:S})

The document states ``h`` then go through the classifier's pooling and head as a flat
encoder's would. Every span of every document in the batch is read in one call of the word RNN
(spans as rows), so the cost is two fused RNN calls, not a Python loop over sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from rnnkit.nn import RNN
from rnnkit.nn.pooling import Pooling
from rnnkit.text.vocab import Vocab

__all__ = [
    "SENTENCE_END",
    "HierarchicalEncoder",
    "HierarchicalStates",
    "Spans",
    "boundary_ids",
    "split_spans",
]

SENTENCE_END = frozenset(".!?…")


def boundary_ids(vocab: Vocab) -> list[int]:
    """Ids of the vocabulary's sentence-ending tokens: those made only of ``. ! ? …``."""
    return [i for i, tok in enumerate(vocab) if tok and set(tok) <= SENTENCE_END]


@dataclass(frozen=True)
class Spans:
    """Where each token of a padded batch falls: span ``span[b, t]``, position ``pos[b, t]``.

    ``lengths`` ``(B, S)`` counts each span's tokens (0 past a document's last span);
    ``count`` ``(B,)`` is each document's number of spans.
    """

    span: Tensor
    pos: Tensor
    mask: Tensor
    lengths: Tensor
    count: Tensor


def split_spans(ids: Tensor, lengths: Tensor, boundaries: Tensor) -> Spans:
    """Cut each document after every boundary token (the token ends its span).

    Shape:
        - ids: ``(B, T)``; lengths: ``(B,)``; boundaries: ``(K,)`` ids.
    """
    steps = torch.arange(ids.shape[1], device=ids.device)
    mask = steps.unsqueeze(0) < lengths.to(ids.device).unsqueeze(1)  # (B, T)
    is_end = torch.isin(ids, boundaries) & mask
    span = is_end.long().cumsum(1) - is_end.long()  # (B, T): the end token stays in its span
    starts = torch.ones_like(is_end)
    starts[:, 1:] = is_end[:, :-1]
    pos = steps - torch.where(starts, steps, 0).cummax(1).values
    span = span.masked_fill(~mask, 0)
    count = span.gather(1, (lengths.to(ids.device) - 1).clamp(min=0).unsqueeze(1)).squeeze(1) + 1
    span_lengths = torch.zeros(ids.shape[0], int(count.max()), dtype=torch.long, device=ids.device)
    span_lengths.scatter_add_(1, span, mask.long())
    return Spans(span, pos.masked_fill(~mask, 0), mask, span_lengths, count)


@dataclass(frozen=True)
class HierarchicalStates:
    """Document states ``(B, S, F)``, span counts ``(B,)``, and what is needed to spread span
    attention back onto tokens."""

    states: Tensor
    count: Tensor
    spans: Spans
    word_weights: Tensor | None  # (B, S, L): attention inside each span

    def token_weights(self, span_weights: Tensor | None) -> Tensor | None:
        """``(B, T)``: each token's weight in its span times its span's weight in the document
        (Yang et al. 2016, their Figure 5); ``None`` unless both levels use attention."""
        if span_weights is None or self.word_weights is None:
            return None
        sp = self.spans
        docs = torch.arange(sp.span.shape[0], device=sp.span.device).unsqueeze(1)
        within = self.word_weights[docs, sp.span, sp.pos]  # (B, T)
        return (within * span_weights.gather(1, sp.span)).masked_fill(~sp.mask, 0.0)


class HierarchicalEncoder(nn.Module):
    """Words → span vectors → document states.

    Args:
        word_rnn: reads the embedded words of one span (batch-first).
        span_pooling: a span's word states ``(N, L, F_w)`` to its vector ``(N, P)``.
        span_rnn: reads the span vectors (batch-first), input size ``P``.
        boundaries: ids of the tokens that end a span.

    Shape:
        - embedded: ``(B, T, E)``, lengths ``(B,)``, ids ``(B, T)``.
        - output: :class:`HierarchicalStates` with states ``(B, S, D·H)``.
    """

    def __init__(
        self, word_rnn: RNN, span_pooling: Pooling, span_rnn: RNN, boundaries: Sequence[int]
    ) -> None:
        super().__init__()
        self.word_rnn, self.span_pooling, self.span_rnn = word_rnn, span_pooling, span_rnn
        self.boundaries: Tensor
        # recomputed from the vocabulary when a model is built, so not part of the weights
        self.register_buffer("boundaries", torch.tensor(list(boundaries), dtype=torch.long), False)
        self.input_size = word_rnn.input_size
        self.output_size = span_rnn.hidden_size * (2 if span_rnn.bidirectional else 1)

    def forward(self, embedded: Tensor, lengths: Tensor, ids: Tensor) -> HierarchicalStates:
        spans = split_spans(ids, lengths, self.boundaries)
        b, s = spans.lengths.shape
        width = int(spans.lengths.max())
        rows = torch.arange(b, device=ids.device).unsqueeze(1) * s + spans.span  # (B, T)
        grid = embedded.new_zeros(b * s, width, embedded.shape[2])  # (B·S, L, E)
        grid[rows[spans.mask], spans.pos[spans.mask]] = embedded[spans.mask]
        flat_lengths = spans.lengths.reshape(-1)
        keep = flat_lengths > 0
        word_states, _ = self.word_rnn(grid[keep], flat_lengths[keep])  # (N, L, F_w)
        pooled = self.span_pooling(word_states, flat_lengths[keep])
        vectors = pooled.vector.new_zeros(b * s, pooled.vector.shape[1])
        vectors[keep] = pooled.vector
        states, _ = self.span_rnn(vectors.view(b, s, -1), spans.count)  # (B, S, F)
        word_weights = None
        if pooled.weights is not None:
            full = pooled.weights.new_zeros(b * s, width)
            full[keep, : pooled.weights.shape[1]] = pooled.weights
            word_weights = full.view(b, s, width)
        return HierarchicalStates(states, spans.count, spans, word_weights)
