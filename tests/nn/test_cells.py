"""Cells against PyTorch's cells, against the paper's equations, and under gradcheck."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import rnnkit.nn
from rnnkit.errors import ConfigError
from rnnkit.nn.cells import (
    ElmanCell,
    FunctionalCell,
    GRUCell,
    HiddenState,
    LSTMCell,
    LSTMState,
    check_cell_options,
    has_cell_state,
    init_cell_,
    make_cell,
)

IN, H, B = 5, 4, 3

TORCH_CELLS: dict[tuple[str, str], Callable[[], nn.Module]] = {
    ("elman", "tanh"): lambda: torch.nn.RNNCell(IN, H, nonlinearity="tanh"),
    ("elman", "relu"): lambda: torch.nn.RNNCell(IN, H, nonlinearity="relu"),
    ("lstm", "tanh"): lambda: torch.nn.LSTMCell(IN, H),
    ("gru", "tanh"): lambda: torch.nn.GRUCell(IN, H),
}


@pytest.mark.parametrize(("mode", "nonlinearity"), list(TORCH_CELLS))
def test_cell_matches_torch_cell_both_ways(mode: str, nonlinearity: str) -> None:
    torch.manual_seed(0)
    ours = make_cell(mode, IN, H, nonlinearity=nonlinearity)
    theirs = TORCH_CELLS[(mode, nonlinearity)]()
    theirs.load_state_dict(ours.state_dict())
    ours.load_state_dict(theirs.state_dict())
    x, h, c = torch.randn(B, IN), torch.randn(B, H), torch.randn(B, H)
    if mode == "lstm":
        state = ours(x, LSTMState(h, c))
        ref_h, ref_c = theirs(x, (h, c))
        torch.testing.assert_close(state.c, ref_c, atol=1e-6, rtol=1e-5)
    else:
        state = ours(x, HiddenState(h))
        ref_h = theirs(x, h)
    torch.testing.assert_close(ours.output(state), ref_h, atol=1e-6, rtol=1e-5)
    torch.autograd.backward(ours.output(state).sum() * 2)
    torch.autograd.backward(ref_h.sum() * 2)
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, getattr(theirs, name).grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    ("mode", "expected"), [("elman", False), ("lstm", True), ("gru", False), ("gru-cho", False)]
)
def test_has_cell_state(mode: str, expected: bool) -> None:
    assert has_cell_state(mode) is expected
    assert rnnkit.nn.has_cell_state(mode) is expected
    cell = make_cell(mode, IN, H)
    assert cell.has_cell_state is expected and type(cell).has_cell_state is expected
    assert cell.functional().has_cell_state is expected
    state = cell.initial_state(B, torch.zeros(1))
    assert isinstance(state, LSTMState if expected else HiddenState)
    assert isinstance(cell(torch.randn(B, IN), state), LSTMState if expected else HiddenState)


def test_has_cell_state_rejects_an_unknown_mode() -> None:
    with pytest.raises(ConfigError, match="unknown recurrent mode"):
        has_cell_state("LSTM")


def test_default_state_is_zeros() -> None:
    torch.manual_seed(0)
    cell = LSTMCell(IN, H)
    x = torch.randn(B, IN)
    zeros = torch.zeros(B, H)
    torch.testing.assert_close(cell(x).h, cell(x, LSTMState(zeros, zeros)).h)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-a))
    return result


def _gru_cho_reference(
    x: np.ndarray,
    h: np.ndarray,
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> np.ndarray:
    """Cho et al. (2014) eq. (5)-(8), one sample at a time, with separate gate matrices."""
    out = np.empty_like(h)
    w_ir, w_iz, w_in = np.split(w_ih, 3)
    w_hr, w_hz, w_hn = np.split(w_hh, 3)
    b_ir, b_iz, b_in = np.split(b_ih, 3)
    b_hr, b_hz, b_hn = np.split(b_hh, 3)
    for b in range(x.shape[0]):
        r = _sigmoid(w_ir @ x[b] + b_ir + w_hr @ h[b] + b_hr)
        z = _sigmoid(w_iz @ x[b] + b_iz + w_hz @ h[b] + b_hz)
        candidate = np.tanh(w_in @ x[b] + b_in + w_hn @ (r * h[b]) + b_hn)
        out[b] = z * h[b] + (1.0 - z) * candidate
    return out


def test_gru_cho_matches_the_papers_equations() -> None:
    torch.manual_seed(1)
    cell = GRUCell(IN, H, mode="gru-cho").double()
    x, h = torch.randn(B, IN, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    ours = cell(x, HiddenState(h)).h.detach().numpy()
    w_ih, w_hh, b_ih, b_hh = (p.detach().numpy() for p in cell.parameters())
    ref = _gru_cho_reference(x.numpy(), h.numpy(), w_ih, w_hh, b_ih, b_hh)
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


def test_gru_variants_differ_but_agree_when_the_reset_gate_is_open() -> None:
    torch.manual_seed(2)
    gru, cho = GRUCell(IN, H), GRUCell(IN, H, mode="gru-cho")
    cho.load_state_dict(gru.state_dict())
    x, h = torch.randn(B, IN), torch.randn(B, H)
    assert not torch.allclose(gru(x, HiddenState(h)).h, cho(x, HiddenState(h)).h, atol=1e-4)
    with torch.no_grad():  # r = sigmoid(60 + ...) = 1: both compute W_hn h + b_hn
        for cell in (gru, cho):
            cell.bias_ih[:H] = 60.0
    torch.testing.assert_close(gru(x, HiddenState(h)).h, cho(x, HiddenState(h)).h)


CELL_MODES = [("elman", "tanh"), ("elman", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
CELL_MODES += [("gru-cho", "tanh")]


@pytest.mark.parametrize(("mode", "nonlinearity"), CELL_MODES)
@pytest.mark.parametrize("with_mask", [False, True])
def test_cell_gradcheck_float64(mode: str, nonlinearity: str, with_mask: bool) -> None:
    torch.manual_seed(3)
    g = 4 if mode == "lstm" else (1 if mode == "elman" else 3)

    def rand(*shape: int) -> Tensor:
        return torch.randn(*shape, dtype=torch.float64, requires_grad=True)

    x, h, c = rand(B, IN), rand(B, H), rand(B, H)
    weights = (rand(g * H, IN) * 0.5, rand(g * H, H) * 0.5, rand(g * H), rand(g * H))
    mask = torch.tensor([[2.0, 0.0, 2.0, 2.0]] * B, dtype=torch.float64) if with_mask else None
    if nonlinearity == "relu":  # keep pre-activations away from the kink at 0
        with torch.no_grad():
            h.abs_()

    def f(
        x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor, b_hh: Tensor
    ) -> tuple[Tensor, ...]:
        cell = FunctionalCell(mode, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        state = LSTMState(h, c) if mode == "lstm" else HiddenState(h)
        return tuple(cell.step(cell.project(x), state, mask))

    assert torch.autograd.gradcheck(f, (x, h, c, *weights))


def test_recurrent_dropout_mask_enters_only_the_recurrent_product() -> None:
    torch.manual_seed(4)
    cell = GRUCell(IN, H)
    x, h = torch.randn(B, IN), torch.randn(B, H)
    mask = torch.ones(B, H)
    mask[:, 1] = 0.0
    fn = cell.functional()
    masked = fn.step(fn.project(x), HiddenState(h), mask).h
    h_zeroed = h.clone()
    h_zeroed[:, 1] = 0.0
    # same gates as with h_zeroed, but the carry z ⊙ h uses the undropped h
    r, z, n_pre = torch.split(x @ cell.weight_ih.t() + cell.bias_ih, H, 1)
    hr, hz, hn = torch.split(h_zeroed @ cell.weight_hh.t() + cell.bias_hh, H, 1)
    z = torch.sigmoid(z + hz)
    n = torch.tanh(n_pre + torch.sigmoid(r + hr) * hn)
    torch.testing.assert_close(masked, (1 - z) * n + z * h)


def test_init_schemes() -> None:
    torch.manual_seed(5)
    irnn = ElmanCell(IN, H, nonlinearity="relu", init="irnn")
    torch.testing.assert_close(irnn.weight_hh.detach(), torch.eye(H))
    assert irnn.bias_ih.abs().sum() == 0 and irnn.bias_hh.abs().sum() == 0
    assert irnn.weight_ih.std() < 0.01
    lstm = LSTMCell(IN, H, forget_bias=1.0)
    torch.testing.assert_close(lstm.bias_ih[H : 2 * H].detach(), torch.ones(H))
    torch.testing.assert_close(lstm.bias_hh[H : 2 * H].detach(), torch.zeros(H))
    bound = 1.0 / H**0.5
    assert lstm.weight_hh.abs().max() <= bound and lstm.bias_ih[:H].abs().max() <= bound
    ortho = GRUCell(IN, H, init="orthogonal")
    for gate in torch.split(ortho.weight_hh.detach(), H):
        torch.testing.assert_close(gate @ gate.t(), torch.eye(H), atol=1e-5, rtol=0)


def test_init_cell_rejects_unknown_scheme() -> None:
    weights = (torch.empty(H, IN), torch.empty(H, H), torch.empty(H), torch.empty(H))
    with pytest.raises(ConfigError, match="unknown init"):
        init_cell_("elman", weights, "xavier")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "lstmm"}, "unknown recurrent mode"),
        ({"mode": "lstm", "nonlinearity": "relu"}, "'elman' only"),
        ({"mode": "elman", "nonlinearity": "sigmoid"}, "'tanh' or 'relu'"),
        ({"mode": "elman", "init": "irnn"}, "nonlinearity='relu'"),
        ({"mode": "gru", "init": "irnn"}, "mode='elman'"),
        ({"mode": "gru", "forget_bias": 1.0}, "'lstm' only"),
    ],
)
def test_bad_cell_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_cell_options(**kwargs)


def test_bad_cell_sizes_and_gru_mode() -> None:
    with pytest.raises(ConfigError):
        ElmanCell(0, 3)
    with pytest.raises(ConfigError, match="'gru' or 'gru-cho'"):
        GRUCell(3, 3, mode="lstm")
