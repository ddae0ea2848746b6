"""LanguageModel: shapes, the loss against a direct computation, tying, the adaptive softmax,
carried state, conditions, bad options."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.lm.model import LanguageModel, LMConfig
from rnnkit.nn import LSTMState

TINY = LMConfig(embedding_dim=6, hidden_size=5, num_layers=2)


def test_loss_is_the_mean_token_cross_entropy() -> None:
    torch.manual_seed(0)
    model = LanguageModel(TINY, 11).eval()
    ids, targets = torch.randint(0, 11, (3, 7)), torch.randint(0, 11, (3, 7))
    targets[0, 2] = -100
    out = model(ids, targets)
    assert out.hidden.shape == (3, 7, 5)
    assert isinstance(out.state, LSTMState) and out.state.h.shape == (2, 3, 5)
    logits = model.decoder(out.hidden)  # type: ignore[misc]
    expected = F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1), ignore_index=-100)
    assert out.loss is not None
    torch.testing.assert_close(out.loss, expected)
    lp = model.log_probs(out.hidden)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(3, 7))


def test_chunks_with_carried_state_equal_one_pass() -> None:
    torch.manual_seed(1)
    model = LanguageModel(TINY, 9).eval()
    ids = torch.randint(0, 9, (2, 12))
    whole = model(ids).hidden
    first = model(ids[:, :5])
    second = model(ids[:, 5:], state=first.state)
    torch.testing.assert_close(torch.cat([first.hidden, second.hidden], 1), whole)


def test_tied_weights_share_the_embedding_and_project_when_widths_differ() -> None:
    tied = LanguageModel(LMConfig(embedding_dim=6, hidden_size=6, tie_weights=True), 10)
    assert tied.decoder is not None and tied.decoder.weight is tied.embedding.weight
    assert tied.projection is None
    projected = LanguageModel(LMConfig(embedding_dim=4, hidden_size=6, tie_weights=True), 10)
    assert projected.projection is not None
    assert projected.decoder is not None and projected.decoder.weight is projected.embedding.weight
    n_tied = sum(p.numel() for p in tied.parameters())
    untied = LanguageModel(LMConfig(embedding_dim=6, hidden_size=6), 10)
    assert sum(p.numel() for p in untied.parameters()) - n_tied == 10 * 6


def test_adaptive_softmax_is_a_distribution_and_scores_targets_exactly() -> None:
    torch.manual_seed(2)
    cfg = LMConfig(
        embedding_dim=6, hidden_size=8, softmax="adaptive", cutoffs=(4, 9), adaptive_div=2.0
    )
    model = LanguageModel(cfg, 20).eval()
    ids, targets = torch.randint(0, 20, (2, 5)), torch.randint(0, 20, (2, 5))
    out = model(ids, targets)
    lp = model.log_probs(out.hidden)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 5))
    direct = lp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    assert out.loss is not None
    torch.testing.assert_close(out.loss, -direct.mean())
    with pytest.raises(ConfigError, match="tie_weights"):
        LMConfig(softmax="adaptive", tie_weights=True)


def test_condition_sets_the_initial_state() -> None:
    torch.manual_seed(3)
    cfg = LMConfig(embedding_dim=4, hidden_size=5, num_layers=2, condition="label")
    model = LanguageModel(cfg, 8, num_conditions=3).eval()
    state = model.initial_state(torch.tensor([0, 2]))
    assert isinstance(state, LSTMState) and state.h.shape == (2, 2, 5) == state.c.shape
    ids = torch.zeros(2, 4, dtype=torch.long)
    a = model(ids, condition=torch.tensor([0, 0])).hidden
    b = model(ids, condition=torch.tensor([0, 1])).hidden
    torch.testing.assert_close(a[0], b[0])
    assert not torch.allclose(a[1], b[1])
    with pytest.raises(ConfigError, match="condition ids"):
        model(ids)
    gru = LanguageModel(LMConfig(mode="gru", hidden_size=5, condition="label"), 8, 2)
    assert gru.initial_state(torch.tensor([1])).shape == (2, 1, 5)  # type: ignore[union-attr]


def test_bad_options_and_inputs() -> None:
    with pytest.raises(ConfigError, match="dropout"):
        LMConfig(dropout=1.0)
    with pytest.raises(ConfigError, match="cutoffs"):
        LMConfig(cutoffs=(5, 3))
    with pytest.raises(ConfigError, match="needs labels"):
        LanguageModel(LMConfig(condition="label"), 10)
    with pytest.raises(ConfigError, match="no tail"):
        LanguageModel(LMConfig(softmax="adaptive", cutoffs=(50,)), 10)
    model = LanguageModel(TINY, 10)
    with pytest.raises(ShapeError, match=r"\(B, T\)"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ShapeError, match="targets"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))
