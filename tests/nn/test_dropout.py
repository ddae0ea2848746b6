"""Locked, word and embedding dropout."""

from __future__ import annotations

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.nn.dropout import LockedDropout, WordDropout, embedding_dropout, recurrent_dropout_mask


@pytest.mark.parametrize("batch_first", [True, False])
def test_locked_dropout_uses_one_mask_across_time(batch_first: bool) -> None:
    torch.manual_seed(0)
    drop = LockedDropout(0.5, batch_first=batch_first)
    x = torch.rand(6, 9, 8) + 0.5  # nonzero everywhere
    ratio = drop(x) / x
    time_axis = 1 if batch_first else 0
    assert set(torch.unique(ratio).tolist()) == {0.0, 2.0}
    assert (ratio == ratio.select(time_axis, 0).unsqueeze(time_axis)).all()
    drop.eval()
    assert drop(x) is x


def test_locked_dropout_keeps_the_expectation() -> None:
    torch.manual_seed(1)
    drop = LockedDropout(0.3)
    x = torch.ones(2000, 2, 50)
    mean = drop(x).mean().item()
    assert abs(mean - 1.0) < 0.02  # sd of the mean of 100k scaled Bernoullis is about 0.002


def test_word_dropout_by_type_drops_every_occurrence_together() -> None:
    torch.manual_seed(2)
    ids = torch.tensor([[1, 2, 3, 1, 2, 4], [4, 4, 1, 5, 6, 7]])
    embedded = torch.rand(2, 6, 3) + 0.5
    out = WordDropout(0.5, unit="type")(embedded, ids)
    kept = (out != 0).all(-1)
    assert ((out == 0).all(-1) | kept).all()  # whole vectors only
    for word in torch.unique(ids):
        fates = kept[ids == word]
        assert fates.all() or not fates.any()
    torch.testing.assert_close(out[kept], embedded[kept] * 2.0)


def test_word_dropout_by_token_and_eval() -> None:
    torch.manual_seed(3)
    embedded = torch.rand(4, 50, 3) + 0.5
    drop = WordDropout(0.5, unit="token")
    out = drop(embedded)
    dropped = (out == 0).all(-1)
    assert ((out == 0).all(-1) | (out != 0).all(-1)).all()
    assert 0 < int(dropped.sum()) < dropped.numel()
    drop.eval()
    assert drop(embedded) is embedded


def test_embedding_dropout_zeroes_rows_and_their_gradients() -> None:
    torch.manual_seed(4)
    weight = torch.randn(10, 4, requires_grad=True)
    ids = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [0, 1, 2, 3, 4]])
    out = embedding_dropout(weight, ids, 0.5)
    torch.autograd.backward(out.sum())
    assert weight.grad is not None
    dropped = (out[1] == 0).all(-1)  # row b=1 holds each of 5..9 once
    assert 0 < int(dropped.sum()) < 5
    assert (weight.grad[5:][dropped] == 0).all()
    torch.testing.assert_close(out[0], out[2])  # same types, same fate
    plain = embedding_dropout(weight, ids, 0.5, training=False)
    torch.testing.assert_close(plain, torch.nn.functional.embedding(ids, weight))


def test_recurrent_dropout_mask_shape_and_values() -> None:
    torch.manual_seed(5)
    mask = recurrent_dropout_mask(3, 7, 0.25, torch.zeros(1, dtype=torch.float64))
    assert mask.shape == (3, 7) and mask.dtype == torch.float64
    assert set(torch.unique(mask).tolist()) <= {0.0, 1.0 / 0.75}


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_bad_probabilities(p: float) -> None:
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        LockedDropout(p)
    with pytest.raises(ConfigError):
        WordDropout(p)


def test_word_dropout_errors() -> None:
    with pytest.raises(ConfigError, match="'type' or 'token'"):
        WordDropout(0.1, unit="char")
    with pytest.raises(ConfigError, match="needs ids"):
        WordDropout(0.1)(torch.zeros(2, 3, 4))
    with pytest.raises(ConfigError, match="3-D"):
        LockedDropout(0.1)(torch.zeros(2, 3))
