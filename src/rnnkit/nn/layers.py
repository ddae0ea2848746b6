"""The explicit recurrence: cell → layer (either direction) → bidirectional → stack.

The composition of PyTorch's ``benchmarks/fastrnns/custom_lstms.py`` (``LSTMLayer``,
``ReverseLSTMLayer``, ``BidirLSTMLayer``, ``StackedLSTM``), written as functions over any cell
that follows the protocol of :mod:`rnnkit.nn.cells` (``project``, ``step``, ``output``). The
input projection of a whole layer is one ``(B·T, I) × (I, G·H)`` matmul; the time loop does only
the recurrent product and the pointwise gates.

Padded batches: at step ``t`` a sequence with ``t >= length`` keeps its state and outputs zeros,
and the backward direction reverses each sequence within its own length (a gather), so it starts
at the sequence's last real token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, TypeVar

import torch
from torch import Tensor, nn

from rnnkit.nn.cells import CellState

S = TypeVar("S", bound=tuple[Tensor, ...])


class Cell(Protocol):
    """What :func:`scan` needs of a cell (both :class:`~rnnkit.nn.cells.FunctionalCell` and the
    cell modules provide it)."""

    def project(self, x: Tensor) -> Tensor: ...

    def step(
        self, xp: Tensor, state: CellState, hidden_mask: Tensor | None = None
    ) -> CellState: ...

    def output(self, state: CellState) -> Tensor: ...


class Padding(NamedTuple):
    """Per-batch padding facts shared by every layer and direction.

    Attributes:
        mask: ``(B, T, 1)`` bool, true at real tokens.
        reverse_index: ``(B, T)`` long; position ``t < length`` maps to ``length-1-t``, padded
            positions map to themselves (so the gather is its own inverse).
        steps: the longest length; the loop stops there.
    """

    mask: Tensor
    reverse_index: Tensor
    steps: int


def make_padding(lengths: Tensor, total_length: int) -> Padding:
    """:class:`Padding` for ``lengths`` ``(B,)`` of sequences padded to ``total_length``."""
    lengths = lengths.to(torch.long)
    t = torch.arange(total_length, device=lengths.device).unsqueeze(0)  # (1, T)
    real = t < lengths.unsqueeze(1)  # (B, T)
    reverse_index = torch.where(real, lengths.unsqueeze(1) - 1 - t, t)
    return Padding(real.unsqueeze(-1), reverse_index, int(lengths.max()))


def reverse_within_lengths(x: Tensor, padding: Padding | None) -> Tensor:
    """Reverse ``x`` ``(B, T, F)`` along time, each sequence within its own length."""
    if padding is None:
        return x.flip(1)
    index = padding.reverse_index.unsqueeze(-1).expand(-1, -1, x.shape[-1])
    return x.gather(1, index)


def _keep_where(mask: Tensor, new: S, old: S) -> S:
    kept = tuple(torch.where(mask, a, b) for a, b in zip(new, old, strict=True))
    return type(new)(*kept)


def scan(
    cell: Cell,
    x: Tensor,
    state: CellState,
    *,
    padding: Padding | None = None,
    reverse: bool = False,
    hidden_mask: Tensor | None = None,
) -> tuple[Tensor, CellState]:
    """Run one layer in one direction.

    Args:
        cell: a cell following the protocol.
        x: ``(B, T, I)``.
        state: the initial state, ``(B, H)`` tensors.
        padding: from :func:`make_padding`, or ``None`` when every sequence has length ``T``.
        reverse: run from each sequence's last real token to its first.
        hidden_mask: ``(B, H)`` recurrent-dropout mask, the same at every step.

    Returns:
        outputs ``(B, T, H)`` (zeros at padded steps, in the input's time order) and the final
        state (the state at each sequence's last real token in the direction of the run).
    """
    total = x.shape[1]
    if reverse:
        x = reverse_within_lengths(x, padding)
    steps = total if padding is None else padding.steps
    xs = cell.project(x[:, :steps]).unbind(1)  # hoisted: one matmul for all steps
    masks = None if padding is None else padding.mask[:, :steps].unbind(1)
    outputs: list[Tensor] = []
    for t in range(steps):
        new = cell.step(xs[t], state, hidden_mask)
        if masks is None:
            state = new
            outputs.append(cell.output(new))
        else:
            outputs.append(torch.where(masks[t], cell.output(new), 0.0))
            state = _keep_where(masks[t], new, state)
    out = torch.stack(outputs, dim=1)
    if steps < total:
        out = nn.functional.pad(out, (0, 0, 0, total - steps))
    if reverse:
        out = reverse_within_lengths(out, padding)
    return out, state


def run_stack(
    cells: Sequence[Sequence[Cell]],
    x: Tensor,
    states: Sequence[Sequence[CellState]],
    *,
    padding: Padding | None = None,
    dropout: float = 0.0,
    training: bool = False,
    hidden_masks: Sequence[Sequence[Tensor | None]] | None = None,
) -> tuple[Tensor, list[list[CellState]]]:
    """Run a stack of (uni- or bidirectional) layers.

    Args:
        cells: ``cells[k][d]``, layer ``k``, direction ``d`` (0 forward, 1 backward).
        x: ``(B, T, I)``.
        states: initial states, indexed like ``cells``.
        padding: see :func:`scan`.
        dropout: dropout on each layer's output except the last (as ``torch.nn.LSTM``).
        training: whether dropout is active.
        hidden_masks: recurrent-dropout masks, indexed like ``cells``.

    Returns:
        the last layer's outputs ``(B, T, D·H)`` (directions concatenated) and the final states,
        indexed like ``cells``.
    """
    finals: list[list[CellState]] = []
    layer_input = x
    for k, layer_cells in enumerate(cells):
        if k > 0 and dropout > 0.0 and training:
            layer_input = nn.functional.dropout(layer_input, dropout, training=True)
        outputs: list[Tensor] = []
        layer_finals: list[CellState] = []
        for d, cell in enumerate(layer_cells):
            mask = None if hidden_masks is None else hidden_masks[k][d]
            out, final = scan(
                cell, layer_input, states[k][d], padding=padding, reverse=d == 1, hidden_mask=mask
            )
            outputs.append(out)
            layer_finals.append(final)
        layer_input = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
        finals.append(layer_finals)
    return layer_input, finals
