"""``rnnkit.nn.RNN`` against ``torch.nn.RNN/LSTM/GRU``, padding, gradcheck, options, errors."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnkit.errors import ConfigError
from rnnkit.nn import RNN, LSTMState, ShapeError
from rnnkit.nn import recurrent as recurrent_module
from rnnkit.nn.recurrent import State

B, T, IN, H = 4, 7, 5, 6
LENGTHS = torch.tensor([7, 3, 5, 1])
TORCH_MODULES: dict[str, Callable[..., torch.nn.RNNBase]] = {
    "elman": torch.nn.RNN,
    "lstm": torch.nn.LSTM,
    "gru": torch.nn.GRU,
}


def _torch_twin(rnn: RNN) -> torch.nn.RNNBase:
    kwargs = {"nonlinearity": rnn.nonlinearity} if rnn.cell_mode == "elman" else {}
    twin = TORCH_MODULES[rnn.cell_mode](
        rnn.input_size,
        rnn.hidden_size,
        rnn.num_layers,
        batch_first=True,
        bidirectional=rnn.bidirectional,
        dtype=rnn.weight_ih_l0.dtype,
        **kwargs,
    )
    twin.load_state_dict(rnn.state_dict())
    rnn.load_state_dict(twin.state_dict())
    return twin


def _run_torch(
    module: torch.nn.RNNBase, x: Tensor, lengths: Tensor | None, state: Any
) -> tuple[Tensor, Any]:
    if lengths is None:
        out, final = module(x, state)
        return out, final
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, final = module(packed, state)
    return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], final


def _states(final: State | tuple[Tensor, ...]) -> list[Tensor]:
    return list(final) if isinstance(final, tuple) else [final]


def _loss(out: Tensor, final: Any, r_out: Tensor, r_states: list[Tensor]) -> Tensor:
    loss = (out * r_out).sum()
    for s, r in zip(_states(final), r_states, strict=True):
        loss = loss + (s * r).sum()
    return loss


def _grad(p: Tensor) -> Tensor:
    assert p.grad is not None
    return p.grad


ORACLE = list(itertools.product(["elman", "lstm", "gru"], [False, True], [1, 2], [False, True]))


@pytest.mark.parametrize("impl", ["loop", "auto"])
@pytest.mark.parametrize(("mode", "bidirectional", "layers", "padded"), ORACLE)
def test_matches_torch_outputs_states_and_gradients(
    impl: str, mode: str, bidirectional: bool, layers: int, padded: bool
) -> None:
    torch.manual_seed(0)
    rnn = RNN(mode, IN, H, layers, bidirectional, impl=impl)
    assert rnn.uses_fused == (impl == "auto")
    twin = _torch_twin(rnn)
    x = torch.randn(B, T, IN)
    lengths = LENGTHS if padded else None
    d = 2 if bidirectional else 1
    h0 = torch.randn(layers * d, B, H)
    state = (h0, torch.randn_like(h0)) if mode == "lstm" else h0
    out, final = rnn(x, lengths, state)
    ref_out, ref_final = _run_torch(twin, x, lengths, state)
    assert out.shape == (B, T, d * H)
    torch.testing.assert_close(out, ref_out, atol=1e-5, rtol=0)
    for ours, ref in zip(_states(final), _states(ref_final), strict=True):
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
    r_out = torch.randn_like(out)
    r_states = [torch.randn_like(s) for s in _states(final)]
    torch.autograd.backward(_loss(out, final, r_out, r_states))
    torch.autograd.backward(_loss(ref_out, ref_final, r_out, r_states))
    for name, p in rnn.named_parameters():
        torch.testing.assert_close(_grad(p), _grad(getattr(twin, name)), atol=1e-4, rtol=0)


@pytest.mark.parametrize("impl", ["loop", "auto"])
def test_relu_elman_and_time_major_layout_match_torch(impl: str) -> None:
    torch.manual_seed(1)
    rnn = RNN("elman", IN, H, 2, True, batch_first=False, impl=impl, nonlinearity="relu")
    twin = torch.nn.RNN(IN, H, 2, nonlinearity="relu", bidirectional=True)
    twin.load_state_dict(rnn.state_dict())
    x = torch.randn(T, B, IN)
    out, final = rnn(x, LENGTHS)
    packed = pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    ref, ref_final = twin(packed)
    torch.testing.assert_close(out, pad_packed_sequence(ref, total_length=T)[0], atol=1e-5, rtol=0)
    torch.testing.assert_close(final, ref_final, atol=1e-5, rtol=0)


MODES = ["elman", "lstm", "gru", "gru-cho"]


@pytest.mark.parametrize("impl", ["loop", "auto"])
@pytest.mark.parametrize("mode", MODES)
def test_padded_batch_equals_each_sequence_alone(impl: str, mode: str) -> None:
    torch.manual_seed(2)
    rnn = RNN(mode, IN, H, 2, True, impl=impl)
    x = torch.randn(B, T, IN, requires_grad=True)
    out, final = rnn(x, LENGTHS)
    r_out = torch.randn_like(out)
    r_states = [torch.randn_like(s) for s in _states(final)]
    torch.autograd.backward(_loss(out, final, r_out, r_states))
    batch_grads = {n: _grad(p).clone() for n, p in rnn.named_parameters()}
    rnn.zero_grad()
    x_alone = x.detach().clone().requires_grad_(True)
    summed = torch.zeros(())
    for b, n in enumerate(LENGTHS.tolist()):
        out_b, final_b = rnn(x_alone[b : b + 1, :n])
        torch.testing.assert_close(out[b, :n], out_b[0], atol=1e-6, rtol=1e-5)
        assert out[b, n:].abs().sum() == 0
        for s, s_b in zip(_states(final), _states(final_b), strict=True):
            torch.testing.assert_close(s[:, b], s_b[:, 0], atol=1e-6, rtol=1e-5)
        r_b = [r[:, b : b + 1] for r in r_states]
        summed = summed + _loss(out_b, final_b, r_out[b : b + 1, :n], r_b)
    torch.autograd.backward(summed)
    for name, p in rnn.named_parameters():
        torch.testing.assert_close(_grad(p), batch_grads[name], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(_grad(x), _grad(x_alone), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_layer_gradcheck_float64_bidirectional_padded(mode: str) -> None:
    torch.manual_seed(3)
    rnn = RNN(mode, 3, 2, 2, True, impl="loop", dtype=torch.float64)
    x = torch.randn(3, 4, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2, 3])
    names = [n for n, _ in rnn.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in rnn.parameters())

    def f(x: Tensor, *weights: Tensor) -> tuple[Tensor, ...]:
        out, final = torch.func.functional_call(
            rnn, dict(zip(names, weights, strict=True)), (x, lengths)
        )
        return (out, *_states(final))

    assert torch.autograd.gradcheck(f, (x, *params), fast_mode=True)


@pytest.mark.parametrize("mode", ["lstm", "gru", "elman"])
@pytest.mark.parametrize(("layers", "bidirectional"), [(1, True), (2, True), (2, False)])
def test_outputs_equal_forward_on_a_padded_batch(
    mode: str, layers: int, bidirectional: bool
) -> None:
    # bidirectional: the unpacked CPU path; unidirectional: forward itself
    torch.manual_seed(3)
    rnn = RNN(mode, 4, 3, num_layers=layers, bidirectional=bidirectional).double()
    x = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 2, 3])
    expected, _ = rnn(x, lengths)
    got = rnn.outputs(x, lengths)
    torch.testing.assert_close(got, expected)
    (g1,) = torch.autograd.grad(expected.sum(), x)
    (g2,) = torch.autograd.grad(got.sum(), x)
    torch.testing.assert_close(g1, g2)
    torch.testing.assert_close(rnn.outputs(x), rnn(x)[0])
    with pytest.raises(ShapeError, match="lengths must lie"):
        rnn.outputs(x, torch.tensor([6, 2, 3]))


def test_state_dict_round_trip_and_switching_impl() -> None:
    torch.manual_seed(4)
    fused = RNN("lstm", IN, H, 2, True)
    twin = torch.nn.LSTM(IN, H, 2, batch_first=True, bidirectional=True)
    twin.load_state_dict(fused.state_dict())
    assert list(fused.state_dict()) == list(twin.state_dict())
    loop = RNN("lstm", IN, H, 2, True, impl="loop")
    loop.load_state_dict(twin.state_dict())
    x = torch.randn(B, T, IN)
    a, (ha, ca) = fused(x, LENGTHS)
    b, (hb, cb) = loop(x, LENGTHS)
    for ours, ref in ((a, b), (ha, hb), (ca, cb)):
        torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
    loop.impl = "auto"
    assert loop.uses_fused
    torch.testing.assert_close(loop(x, LENGTHS)[0], a)


def test_float64_and_device_moves_keep_the_fused_weights_in_sync() -> None:
    torch.manual_seed(5)
    rnn = RNN("gru", IN, H).double()
    x = torch.randn(B, T, IN, dtype=torch.float64)
    fused = rnn(x)[0]
    rnn.impl = "loop"
    torch.testing.assert_close(rnn(x)[0], fused)


def test_lstm_final_state_is_a_named_pair() -> None:
    rnn = RNN("lstm", IN, H, 2)
    _, final = rnn(torch.randn(B, T, IN))
    assert isinstance(final, LSTMState)
    assert final.h.shape == final.c.shape == (2, B, H)
    assert rnn.output_size == H and RNN("gru", IN, H, bidirectional=True).output_size == 2 * H


@pytest.mark.parametrize("impl", ["loop", "auto"])
@pytest.mark.parametrize(
    ("mode", "expected"), [("elman", False), ("lstm", True), ("gru", False), ("gru-cho", False)]
)
def test_has_cell_state_says_which_state_the_layer_takes_and_returns(
    mode: str, expected: bool, impl: str
) -> None:
    rnn = RNN(mode, IN, H, 2, bidirectional=True, impl=impl)
    assert rnn.has_cell_state is expected
    x, lengths = torch.randn(B, T, IN), LENGTHS
    _, final = rnn(x, lengths)
    assert isinstance(final, LSTMState) is expected
    h0 = torch.zeros(4, B, H)
    state: Tensor | tuple[Tensor, Tensor] = (h0, h0) if expected else h0
    rnn(x, lengths, state)
    wrong: Tensor | tuple[Tensor, Tensor] = h0 if expected else (h0, h0)
    with pytest.raises(ShapeError):
        rnn(x, lengths, wrong)
    if rnn.uses_fused:  # the padded fast path builds its own zero state
        torch.testing.assert_close(rnn.outputs(x, lengths), rnn(x, lengths)[0])


def test_recurrent_dropout_forces_the_loop_logs_once_and_is_off_in_eval(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recurrent_module, "_LOGGED", set())
    torch.manual_seed(6)
    with caplog.at_level(logging.INFO, logger="rnnkit.nn"):
        rnn = RNN("lstm", IN, H, recurrent_dropout=0.5)
        RNN("lstm", IN, H, recurrent_dropout=0.3)
    assert not rnn.uses_fused
    assert len([r for r in caplog.records if "recurrent_dropout" in r.getMessage()]) == 1
    plain = RNN("lstm", IN, H)
    plain.load_state_dict(rnn.state_dict())
    x = torch.randn(B, T, IN)
    rnn.eval()
    torch.testing.assert_close(rnn(x)[0], plain(x)[0], atol=1e-5, rtol=0)
    rnn.train()
    first, second = rnn(x)[0], rnn(x)[0]
    assert not torch.allclose(first, second)


def test_recurrent_dropout_uses_one_mask_per_sequence() -> None:
    torch.manual_seed(7)
    # with weight_ih = 0 and zero biases, h_t = tanh((h_{t-1} ⊙ m) W_hh^T), so the dropped
    # input u_t = h_{t-1} ⊙ m can be solved for at every step: its zero pattern is m's
    rnn = RNN("elman", IN, H, recurrent_dropout=0.5, dtype=torch.float64)
    w_ih, w, b_ih, b_hh = rnn.layer_weights(0, 0)
    with torch.no_grad():
        for p in (w_ih, b_ih, b_hh):
            p.zero_()
    h0 = torch.rand(1, B, H, dtype=torch.float64) + 0.5
    out, _ = rnn(torch.zeros(B, T, IN, dtype=torch.float64), state=h0)
    w = w.detach()
    prev = h0[0]
    kept = []
    for t in range(T):
        u = torch.linalg.solve(w, torch.atanh(out[:, t].detach()).t()).t()
        kept.append(u.abs() > 1e-9)
        torch.testing.assert_close(u[kept[-1]], 2.0 * prev[kept[-1]])
        prev = out[:, t].detach()
    assert 0 < int(kept[0].sum()) < B * H
    for k in kept[1:]:
        assert torch.equal(k, kept[0])


def test_gru_cho_runs_the_loop_under_auto_and_refuses_fused() -> None:
    assert not RNN("gru-cho", IN, H).uses_fused
    with pytest.raises(ConfigError, match="gru-cho"):
        RNN("gru-cho", IN, H, impl="fused")
    with pytest.raises(ConfigError, match="recurrent_dropout"):
        RNN("gru", IN, H, impl="fused", recurrent_dropout=0.2)
    rnn = RNN("gru-cho", IN, H, impl="loop")
    with pytest.raises(ConfigError, match="gru-cho"):
        rnn.impl = "fused"
    with pytest.raises(ConfigError, match="impl must be"):
        rnn.impl = "cuda"


def test_irnn_and_forget_bias_options() -> None:
    irnn = RNN("elman", IN, H, 2, True, nonlinearity="relu", init="irnn")
    for name, p in irnn.named_parameters():
        if name.startswith("weight_hh"):
            torch.testing.assert_close(p.detach(), torch.eye(H))
        if name.startswith("bias"):
            assert p.abs().sum() == 0
    assert irnn.uses_fused
    lstm = RNN("lstm", IN, H, 2, forget_bias=1.0)
    _, _, b_ih, b_hh = lstm.layer_weights(1, 0)
    assert (b_ih[H : 2 * H] == 1.0).all() and (b_hh[H : 2 * H] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "rnn"}, "unknown recurrent mode"),
        ({"impl": "cudnn"}, "impl must be"),
        ({"num_layers": 0}, "num_layers"),
        ({"hidden_size": 2.5}, "hidden_size"),
        ({"dropout": 1.0}, "dropout"),
        ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
        ({"mode": "gru", "forget_bias": 1.0}, "'lstm' only"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], message: str) -> None:
    args = {"mode": "lstm", "input_size": IN, "hidden_size": H, **kwargs}
    with pytest.raises(ConfigError, match=message):
        RNN(**args)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r(torch.randn(B, T)), "must be"),
        (lambda r: r(torch.randn(B, T, IN + 1)), "I=5"),
        (lambda r: r(torch.randn(B, T, IN).double()), "float64"),
        (lambda r: r(torch.randn(B, 0, IN)), "empty"),
        (lambda r: r(torch.randn(B, T, IN), torch.tensor([1, 2, 3])), r"\(4,\)"),
        (lambda r: r(torch.randn(B, T, IN), torch.tensor([1, 2, 3, 8])), r"1\.\.7"),
        (lambda r: r(torch.randn(B, T, IN), torch.tensor([0, 2, 3, 4])), r"1\.\.7"),
        (lambda r: r(torch.randn(B, T, IN), torch.tensor([1.0, 2, 3, 4])), "integers"),
        (lambda r: r(torch.randn(B, T, IN), state=torch.zeros(1, B, H)), "pair"),
        (lambda r: r(torch.randn(B, T, IN), state=(torch.zeros(1, B, H),) * 2), r"\(2, 4, 6\)"),
    ],
)
@pytest.mark.parametrize("impl", ["loop", "auto"])
def test_bad_inputs(call: Callable[[RNN], object], message: str, impl: str) -> None:
    rnn = RNN("lstm", IN, H, 2, impl=impl)
    with pytest.raises(ShapeError, match=message):
        call(rnn)


@pytest.mark.parametrize("impl", ["loop", "auto"])
def test_runs_under_autocast_with_a_low_precision_input(impl: str) -> None:
    torch.manual_seed(8)
    rnn = RNN("lstm", IN, H, 2, True, impl=impl)
    x = torch.randn(B, T, IN)
    ref, _ = rnn(x, LENGTHS)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, _ = rnn(x.bfloat16(), LENGTHS)
    torch.testing.assert_close(out.float(), ref, atol=2e-2, rtol=0)
