"""The explicit recurrence: padding helpers, scan, and the stack."""

from __future__ import annotations

import torch

from rnnkit.nn.cells import HiddenState, LSTMCell, LSTMState, make_cell
from rnnkit.nn.layers import make_padding, reverse_within_lengths, run_stack, scan


def test_make_padding() -> None:
    padding = make_padding(torch.tensor([3, 1, 4]), 5)
    assert padding.steps == 4
    assert padding.mask.squeeze(-1).sum(1).tolist() == [3, 1, 4]
    assert padding.reverse_index.tolist() == [
        [2, 1, 0, 3, 4],
        [0, 1, 2, 3, 4],
        [3, 2, 1, 0, 4],
    ]


def test_reverse_within_lengths_reverses_each_sequence_and_is_an_involution() -> None:
    torch.manual_seed(0)
    lengths = torch.tensor([5, 2, 3, 1])
    x = torch.randn(4, 5, 3)
    padding = make_padding(lengths, 5)
    rev = reverse_within_lengths(x, padding)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(rev[b, :n], x[b, :n].flip(0))
        torch.testing.assert_close(rev[b, n:], x[b, n:])
    torch.testing.assert_close(reverse_within_lengths(rev, padding), x)
    torch.testing.assert_close(reverse_within_lengths(x, None), x.flip(1))


def test_scan_is_the_cell_applied_step_by_step() -> None:
    torch.manual_seed(1)
    cell = LSTMCell(3, 4)
    x = torch.randn(2, 6, 3)
    state = LSTMState(torch.randn(2, 4), torch.randn(2, 4))
    out, final = scan(cell, x, state)
    manual = state
    for t in range(6):
        manual = cell(x[:, t], manual)
        torch.testing.assert_close(out[:, t], manual.h)
    assert isinstance(final, LSTMState) and isinstance(manual, LSTMState)
    torch.testing.assert_close(final.h, manual.h)
    torch.testing.assert_close(final.c, manual.c)


def test_scan_with_padding_matches_each_sequence_alone_in_both_directions() -> None:
    torch.manual_seed(2)
    cell = make_cell("gru", 3, 4)
    lengths = [4, 2, 6]
    x = torch.randn(3, 6, 3)
    state = HiddenState(torch.randn(3, 4))
    padding = make_padding(torch.tensor(lengths), 6)
    for reverse in (False, True):
        out, final = scan(cell, x, state, padding=padding, reverse=reverse)
        for b, n in enumerate(lengths):
            alone = HiddenState(state.h[b : b + 1])
            seq = x[b : b + 1, :n]
            ref_out, ref_final = scan(cell, seq, alone, reverse=reverse)
            torch.testing.assert_close(out[b, :n], ref_out[0])
            assert out[b, n:].abs().sum() == 0
            torch.testing.assert_close(final.h[b], ref_final.h[0])


def test_run_stack_applies_dropout_between_layers_only_in_training() -> None:
    torch.manual_seed(3)
    cells = [[make_cell("elman", 3, 4)], [make_cell("elman", 4, 4)]]
    x = torch.randn(2, 5, 3)
    states = [[HiddenState(torch.zeros(2, 4))] for _ in range(2)]
    eval_out, _ = run_stack(cells, x, states, dropout=0.5, training=False)
    plain_out, _ = run_stack(cells, x, states)
    torch.testing.assert_close(eval_out, plain_out)
    train_out, _ = run_stack(cells, x, states, dropout=0.5, training=True)
    assert not torch.allclose(train_out, plain_out)
