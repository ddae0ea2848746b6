import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import RNN
from rnnkit.nn.pooling import (
    POOLINGS,
    AttentionPooling,
    ConcatPooling,
    LastPooling,
    length_mask,
    make_pooling,
)


def _padded(lengths, features, garbage=1e3, seed=0):
    g = torch.Generator().manual_seed(seed)
    states = garbage * torch.randn(len(lengths), max(lengths), features, generator=g)
    for i, n in enumerate(lengths):
        states[i, :n] = torch.randn(n, features, generator=g)
    return states, torch.tensor(lengths)


CASES = [
    ("last", {"bidirectional": False}),
    ("last", {"bidirectional": True}),
    ("mean", {}),
    ("max", {}),
    ("attention", {"attention_size": None}),
    ("attention", {"attention_size": 5}),
    ("concat", {"bidirectional": False}),
    ("concat", {"bidirectional": True}),
]


@pytest.mark.parametrize(("name", "options"), CASES)
def test_padding_never_changes_the_result(name, options):
    torch.manual_seed(0)
    pool = make_pooling(name, 6, **options)
    states, lengths = _padded([4, 1, 7, 2], 6)
    out = pool(states, lengths)
    assert out.vector.shape == (4, pool.output_size)
    for i, n in enumerate(lengths.tolist()):
        alone = pool(states[i : i + 1, :n], lengths[i : i + 1])
        torch.testing.assert_close(out.vector[i], alone.vector[0], rtol=1e-6, atol=1e-6)
        if out.weights is not None:
            torch.testing.assert_close(out.weights[i, :n], alone.weights[0])
            assert (out.weights[i, n:] == 0).all()


def test_mean_and_max_match_a_direct_computation():
    states, lengths = _padded([3, 5], 4)
    mean = make_pooling("mean", 4)(states, lengths).vector
    mx = make_pooling("max", 4)(states, lengths).vector
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(mean[i], states[i, :n].mean(0))
        torch.testing.assert_close(mx[i], states[i, :n].max(0).values)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_last_pooling_equals_the_final_state_of_the_rnn(bidirectional):
    torch.manual_seed(0)
    rnn = RNN("gru", 3, 4, bidirectional=bidirectional)
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    out, h = rnn(x, lengths)
    pooled = LastPooling(rnn.output_size, bidirectional)(out, lengths).vector
    expected = torch.cat([h[0], h[1]], dim=1) if bidirectional else h[0]
    torch.testing.assert_close(pooled, expected)


@pytest.mark.parametrize("attention_size", [None, 3])
def test_attention_follows_the_equations(attention_size):
    torch.manual_seed(0)
    pool = AttentionPooling(4, attention_size).double()
    states, lengths = _padded([5, 3], 4)
    states = states.double()
    vector, weights = pool(states, lengths)
    for i, n in enumerate(lengths.tolist()):
        h = states[i, :n]
        keys = torch.tanh(pool.project(h)) if pool.project is not None else h
        a = torch.softmax(pool.context(keys).squeeze(1), dim=0)
        torch.testing.assert_close(weights[i, :n], a)
        torch.testing.assert_close(vector[i], a @ h)
    assert torch.autograd.gradcheck(lambda s: pool(s, lengths).vector, states.requires_grad_())


@pytest.mark.parametrize("bidirectional", [False, True])
def test_concat_pooling_is_last_max_and_mean_over_the_real_steps(bidirectional):
    """Howard & Ruder (2018, §3.3), checked in float64 against a loop over each text's real
    steps; padding holds large values that must never be read."""
    states, lengths = _padded([4, 1, 6, 2], 6)
    states = states.double()
    pool = make_pooling("concat", 6, bidirectional=bidirectional)
    assert isinstance(pool, ConcatPooling) and pool.output_size == 18
    vector, weights = pool(states, lengths)
    assert weights is None and vector.shape == (4, 18) and vector.dtype == torch.float64
    for i, n in enumerate(lengths.tolist()):
        real = states[i, :n]
        last = real[n - 1].clone()
        if bidirectional:  # the backward half has read the whole text at the first step
            last[3:] = real[0, 3:]
        columns = [real[:, f].tolist() for f in range(6)]
        largest = torch.tensor([max(c) for c in columns], dtype=torch.float64)
        mean = torch.tensor([sum(c) / n for c in columns], dtype=torch.float64)
        torch.testing.assert_close(vector[i], torch.cat([last, largest, mean]), rtol=0, atol=1e-12)


def test_length_mask():
    assert length_mask(torch.tensor([1, 3]), 3).tolist() == [[True, False, False], [True] * 3]


def test_bad_options_and_shapes():
    with pytest.raises(ConfigError):
        make_pooling("sum", 4)
    with pytest.raises(ConfigError):
        LastPooling(3, bidirectional=True)
    with pytest.raises(ConfigError):
        AttentionPooling(4, 0)
    with pytest.raises(ShapeError):
        make_pooling("mean", 4)(torch.zeros(2, 3, 5), torch.tensor([1, 2]))
    with pytest.raises(ShapeError):
        make_pooling("mean", 4)(torch.zeros(2, 3, 4), torch.tensor([1, 2, 3]))
    with pytest.raises(ConfigError):
        make_pooling("concat", 5, bidirectional=True)
    assert set(POOLINGS) == {"last", "mean", "max", "attention", "concat"}
