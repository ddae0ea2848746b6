"""Attention: an explicit-loop oracle of each score, masking, normalisation, gradcheck."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.attention import SCORES, Attention
from rnnkit.nn.pooling import length_mask


@torch.no_grad()
def _oracle_score(att: Attention, q: torch.Tensor, k: torch.Tensor) -> float:
    """The score of one query and one key, written as in the papers."""
    if att.score == "dot":
        return float(q @ k)
    if att.score == "general":
        return float(q @ (att.key_proj.weight @ k))
    hidden = att.query_proj.weight @ q + att.query_proj.bias + att.key_proj.weight @ k
    return float(att.v.weight[0] @ torch.tanh(hidden))


@pytest.mark.parametrize("score", SCORES)
def test_matches_explicit_loop_and_ignores_padding(score: str) -> None:
    torch.manual_seed(0)
    att = Attention(score, 6, 6, hidden_size=5)
    lengths = torch.tensor([4, 2, 1])
    keys = torch.randn(3, 4, 6)
    query = torch.randn(3, 6)
    out = att(query, keys, length_mask(lengths, 4))
    for b, n in enumerate(lengths.tolist()):
        raw = torch.tensor([_oracle_score(att, query[b], keys[b, s]) for s in range(n)])
        expected = torch.softmax(raw, 0)
        torch.testing.assert_close(out.weights[b, :n], expected, atol=1e-5, rtol=1e-5)
        assert torch.all(out.weights[b, n:] == 0.0)
        torch.testing.assert_close(out.context[b], expected @ keys[b, :n], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.weights.sum(-1), torch.ones(3))


@pytest.mark.parametrize("score", SCORES)
def test_padding_values_do_not_leak(score: str) -> None:
    torch.manual_seed(1)
    att = Attention(score, 4, 4)
    keys = torch.randn(2, 5, 4)
    mask = length_mask(torch.tensor([3, 5]), 5)
    noisy = keys.clone()
    noisy[0, 3:] = 1e3 * torch.randn(2, 4)
    query = torch.randn(2, 3, 4)
    a, b = att(query, keys, mask), att(query, noisy, mask)
    torch.testing.assert_close(a.context[0], b.context[0])
    torch.testing.assert_close(a.weights[0], b.weights[0])


@pytest.mark.parametrize("score", SCORES)
def test_many_queries_equal_one_at_a_time(score: str) -> None:
    torch.manual_seed(2)
    att = Attention(score, 4, 4)
    keys = torch.randn(2, 5, 4)
    mask = length_mask(torch.tensor([5, 2]), 5)
    queries = torch.randn(2, 3, 4)
    together = att(queries, keys, mask, att.precompute(keys))
    assert together.weights.shape == (2, 3, 5) and together.context.shape == (2, 3, 4)
    for t in range(3):
        alone = att(queries[:, t], keys, mask)
        torch.testing.assert_close(together.context[:, t], alone.context)
        torch.testing.assert_close(together.weights[:, t], alone.weights)


@pytest.mark.parametrize("score", SCORES)
def test_gradcheck(score: str) -> None:
    torch.manual_seed(3)
    att = Attention(score, 3, 3, hidden_size=2).double()
    keys = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    query = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    mask = length_mask(torch.tensor([4, 2]), 4)
    assert torch.autograd.gradcheck(lambda q, k: att(q, k, mask).context, (query, keys))


def test_bad_options_and_shapes() -> None:
    with pytest.raises(ConfigError, match="query_size == key_size"):
        Attention("dot", 4, 8)
    with pytest.raises(ConfigError, match="must be one of"):
        Attention("cosine", 4, 4)
    att = Attention("general", 4, 8)
    with pytest.raises(ShapeError):
        att(torch.randn(2, 4), torch.randn(2, 5, 8), torch.ones(2, 4, dtype=torch.bool))
