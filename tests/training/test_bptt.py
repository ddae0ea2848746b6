"""Truncated BPTT: stream layout, chunks, detached states carried across chunks."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.nn import RNN, LSTMState
from rnnkit.nn.recurrent import State
from rnnkit.training.bptt import (
    BpttChunk,
    batchify,
    bptt_chunks,
    carry_state,
    chunked_forward,
    detach_state,
)


def test_detach_state_keeps_structure_and_values() -> None:
    h = torch.randn(2, 3, requires_grad=True) * 2
    c = torch.randn(2, 3, requires_grad=True) * 2
    state = {"enc": LSTMState(h, c), "dec": [h, (c, None)]}
    out = detach_state(state)
    assert isinstance(out["enc"], LSTMState)
    assert out["enc"].h.data_ptr() == h.data_ptr() and not out["enc"].h.requires_grad
    dec = out["dec"]
    assert isinstance(dec, list) and isinstance(dec[1], tuple) and dec[1][1] is None
    assert not dec[0].requires_grad and not dec[1][0].requires_grad
    assert detach_state(None) is None
    with pytest.raises(ConfigError, match="str"):
        detach_state("h")


def test_batchify_lays_rows_out_contiguously() -> None:
    tokens = torch.arange(23)
    stream = batchify(tokens, 4)
    assert stream.shape == (4, 5)
    assert stream[1].tolist() == [5, 6, 7, 8, 9]
    assert stream.reshape(-1).tolist() == list(range(20))
    with pytest.raises(ConfigError, match="too short"):
        batchify(torch.arange(5), 4)
    with pytest.raises(ConfigError, match="1-D"):
        batchify(stream, 2)


@pytest.mark.parametrize("variable", [False, True])
def test_chunks_cover_the_stream_with_shifted_targets(variable: bool) -> None:
    stream = batchify(torch.arange(3 * 200), 3)
    chunks = list(bptt_chunks(stream, 35, variable=variable, seed=1))
    torch.testing.assert_close(torch.cat([c.inputs for c in chunks], 1), stream[:, :-1])
    torch.testing.assert_close(torch.cat([c.targets for c in chunks], 1), stream[:, 1:])
    assert [c.start for c in chunks] == [
        sum(c.length for c in chunks[:i]) for i in range(len(chunks))
    ]
    lengths = [c.length for c in chunks[:-1]]
    if variable:
        assert len(set(lengths)) > 1 and min(lengths) >= 5
        again = [c.length for c in bptt_chunks(stream, 35, variable=True, seed=1)]
        assert again == [c.length for c in chunks]
    else:
        assert set(lengths) == {35} and chunks[-1].length == 199 - 35 * 5


def test_bad_chunking_arguments() -> None:
    with pytest.raises(ConfigError, match="bptt"):
        list(bptt_chunks(torch.zeros(2, 10), 0))
    with pytest.raises(ConfigError, match=r"\(B, N\)"):
        list(bptt_chunks(torch.zeros(10), 3))
    rnn = RNN("gru", 1, 2)

    def forward(chunk: Tensor, state: State | None) -> tuple[Tensor, State]:
        out, final = rnn(chunk, state=state)
        return out, final

    with pytest.raises(ConfigError, match="bptt"):
        chunked_forward(forward, torch.zeros(2, 5, 1), 0)


def test_carried_state_continues_the_forward_pass_and_truncates_gradients() -> None:
    torch.manual_seed(0)
    rnn = RNN("lstm", 4, 5)
    embed = torch.nn.Embedding(30, 4)
    stream = batchify(torch.randint(0, 30, (2 * 41,)), 2)
    full, _ = rnn(embed(stream[:, :-1]))
    outs: list[Tensor] = []
    received: list[State | None] = []

    def step(chunk: BpttChunk, state: State | None) -> tuple[Tensor, State]:
        received.append(state)
        out, final = rnn(embed(chunk.inputs), state=state)
        outs.append(out)
        return out.sum(), final

    losses = list(carry_state(bptt_chunks(stream, 12), step))
    assert len(losses) == 4 and received[0] is None
    torch.testing.assert_close(torch.cat(outs, 1), full, atol=1e-6, rtol=1e-5)
    for state in received[1:]:
        assert isinstance(state, LSTMState) and not state.h.requires_grad
    # the second chunk's loss reaches the embeddings of its own ids only
    embed.zero_grad()
    torch.autograd.backward(losses[1])
    assert embed.weight.grad is not None
    used = torch.zeros(30, dtype=torch.bool)
    used[stream[:, 12:24].reshape(-1)] = True
    assert (embed.weight.grad[~used] == 0).all() and (embed.weight.grad[used] != 0).any()


def test_chunked_forward_equals_one_pass() -> None:
    torch.manual_seed(1)
    rnn = RNN("gru", 3, 4, 2, impl="loop")
    x = torch.randn(2, 23, 3)
    whole, final = rnn(x)

    def forward(chunk: Tensor, state: State | None) -> tuple[Tensor, State]:
        out, final = rnn(chunk, state=state)
        return out, final

    out, state = chunked_forward(forward, x, 5)
    torch.testing.assert_close(out, whole, atol=1e-6, rtol=1e-5)
    assert isinstance(state, Tensor) and isinstance(final, Tensor)
    torch.testing.assert_close(state, final, atol=1e-6, rtol=1e-5)
