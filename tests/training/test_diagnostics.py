"""Gradient-flow diagnostic: against an explicit Jacobian chain, and the vanishing claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import Tensor
from torch.autograd.functional import jacobian

from rnnkit.errors import ConfigError
from rnnkit.nn.cells import HiddenState, LSTMState, make_cell
from rnnkit.training.diagnostics import (
    GradientFlow,
    gradient_flow,
    step_gradient_norms,
    write_gradient_flow,
)


def _jacobian_chain_norms(mode: str, x: Tensor, readout: Tensor) -> Tensor:
    """‖∂L/∂h_k‖ by multiplying per-step Jacobians of the full state backwards (one sequence)."""
    torch.manual_seed(0)
    cell = make_cell(mode, x.shape[1], readout.shape[0]).double()
    hidden = readout.shape[0]
    lstm = mode == "lstm"

    def step(x_t: Tensor, s: Tensor) -> Tensor:  # s = [h, c] (LSTM) or h, as one vector
        h = s[None, :hidden]
        state = LSTMState(h, s[None, hidden:]) if lstm else HiddenState(h)
        return torch.cat(list(cell(x_t[None], state)), dim=1)[0]

    states = [torch.zeros(2 * hidden if lstm else hidden, dtype=torch.float64)]
    for x_t in x:
        states.append(step(x_t, states[-1]).detach())
    grad = torch.zeros_like(states[-1])
    grad[:hidden] = readout  # dL/d(state_T)
    norms = [grad[:hidden].norm()]
    for t in range(x.shape[0] - 1, 0, -1):
        jac = jacobian(lambda s, t=t: step(x[t], s), states[t])  # d state_{t+1} / d state_t
        grad = jac.t() @ grad
        norms.append(grad[:hidden].norm())
    return torch.stack(norms[::-1])


@pytest.mark.parametrize("mode", ["elman", "lstm", "gru", "gru-cho"])
def test_step_gradient_norms_match_an_explicit_jacobian_chain(mode: str) -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 9, 4, dtype=torch.float64, generator=gen)
    readout = torch.randn(5, dtype=torch.float64, generator=gen)
    torch.manual_seed(0)
    cell = make_cell(mode, 4, 5).double()
    norms = step_gradient_norms(cell, x, readout)
    assert norms.shape == (9, 3)
    for b in range(3):
        torch.testing.assert_close(norms[:, b], _jacobian_chain_norms(mode, x[b], readout))


def test_elman_vanishes_and_lstm_with_forget_bias_holds() -> None:
    elman = gradient_flow("elman", 60, hidden_size=32, batch_size=8, n_inits=2)
    held = gradient_flow("lstm", 60, hidden_size=32, forget_bias=3.0, batch_size=8, n_inits=2)
    assert elman.norms[0] / elman.norms[-1] < 1e-12
    assert held.norms[0] / held.norms[-1] > 1e-2
    assert elman.decades_lost_per_step > 10 * held.decades_lost_per_step > 0
    assert all(lo <= m <= hi for lo, m, hi in zip(held.low, held.norms, held.high, strict=True))


def test_gradient_flow_is_repeatable_and_leaves_the_global_rng_alone() -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = gradient_flow("gru", 10, hidden_size=8, seed=5, batch_size=4, n_inits=2)
    assert torch.equal(torch.get_rng_state(), before)
    b = gradient_flow("gru", 10, hidden_size=8, seed=5, batch_size=4, n_inits=2)
    assert a == b and a.n_sequences == 8 and len(a.norms) == 10


def test_write_gradient_flow_files(tmp_path: Path) -> None:
    files = write_gradient_flow(
        tmp_path / "out", ["elman", "lstm"], 12, hidden_size=8, lstm_forget_biases=(None, 2.0)
    )
    assert files.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(files.json.read_text(encoding="utf-8"))
    labels = [r["label"] for r in data["results"]]
    assert labels == ["elman", "lstm (PyTorch init)", "lstm (forget bias 2)"]
    first = data["results"][0]
    restored = GradientFlow.from_json(first)
    assert restored == gradient_flow("elman", 12, 8)
    assert first["ratio_first_to_last"] == pytest.approx(restored.norms[0] / restored.norms[-1])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [files.json.name, files.png.name]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "transformer", "length": 10}, "unknown recurrent mode"),
        ({"mode": "elman", "length": 1}, "at least 2"),
        ({"mode": "elman", "length": 10, "hidden_size": 0}, "positive"),
        ({"mode": "gru", "length": 10, "forget_bias": 1.0}, "'lstm' only"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        gradient_flow(**kwargs)  # type: ignore[arg-type]


def test_write_needs_modes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least one mode"):
        write_gradient_flow(tmp_path, [], 10)
