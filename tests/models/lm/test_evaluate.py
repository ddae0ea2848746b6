"""Exact language-model evaluation: perplexity against a direct sum of token log-probabilities,
independence of the evaluation batch size, segments that stay exact."""

from __future__ import annotations

import math

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.lm.evaluate import _state_gap, evaluate_lm, stream_log_probs
from rnnkit.models.lm.model import LanguageModel
from rnnkit.nn import LSTMState
from tests.models.lm.test_train import LINES, tiny_lm


def direct_log_probs(model: LanguageModel, ids: list[int]) -> list[float]:
    """One token at a time, each from the state after all the tokens before it."""
    out, state, prev = [], None, ids[0]
    with torch.no_grad():
        for nxt in ids[1:]:
            step = model(torch.tensor([[prev]]), state=state)
            state = step.state
            out.append(float(model.log_probs(step.hidden)[0, 0, nxt]))
            prev = nxt
    return out


def test_perplexity_equals_the_direct_sum_of_token_log_probs() -> None:
    lm = tiny_lm(softmax="full")
    text = LINES * 3
    stream = lm.encode_stream(text)
    direct = direct_log_probs(lm.model, [lm.eos_id, *stream.tolist()])
    ev = evaluate_lm(lm, text, batch_size=1, bptt=4)
    assert ev.tokens == stream.numel() == len(direct) == 3 * (7 + 4 + 9)
    assert ev.nll == pytest.approx(-sum(direct), rel=1e-6)
    assert ev.perplexity == pytest.approx(math.exp(-sum(direct) / len(direct)), rel=1e-6)
    assert ev.bpc == pytest.approx(ev.loss / math.log(2))


@pytest.mark.parametrize("softmax", ["full", "adaptive"])
def test_perplexity_does_not_depend_on_the_evaluation_batch_size(softmax: str) -> None:
    lm = tiny_lm(1, softmax=softmax, cutoffs=(5,), adaptive_div=2.0)
    text = LINES * 5
    ref = evaluate_lm(lm, text, batch_size=1, bptt=35)
    for batch_size, bptt in [(2, 3), (3, 35), (7, 5), (200, 2)]:
        ev = evaluate_lm(lm, text, batch_size=batch_size, bptt=bptt)
        assert ev.tokens == ref.tokens
        assert ev.perplexity == pytest.approx(ref.perplexity, rel=1e-4)


def test_state_gap_is_relative_to_large_cell_states() -> None:
    # a char LSTM's cell state reaches hundreds, where float32 rounding differs by ~1e-5
    # between passes: an absolute 1e-6 never converged and ran all B passes (45 min)
    c = torch.full((2, 3, 4), 300.0)
    big = LSTMState(torch.zeros(2, 3, 4), c)
    assert _state_gap(LSTMState(big.h, c + 3e-5), big) < 1e-6
    small = torch.full((2, 3, 4), 0.5)
    assert _state_gap(small + 1e-3, small) > 1e-6


def test_segments_are_exact_even_when_the_state_does_not_forget() -> None:
    lm = tiny_lm(2)
    stream = lm.encode_stream(LINES * 2)
    one = stream_log_probs(lm.model, stream, 1, 35, lm.eos_id)
    many = stream_log_probs(lm.model, stream, 6, 8, lm.eos_id, tol=0.0)  # up to 6 passes
    torch.testing.assert_close(many, one, rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="no tokens"):
        stream_log_probs(lm.model, stream[:1])
