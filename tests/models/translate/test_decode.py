"""Decoding: beam 1 is greedy, batched beam is sentence-by-sentence beam, an exhaustive beam finds
the brute-force best translation, and the length limits."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.models.translate.artifact import pair_batches
from rnnkit.models.translate.decode import (
    Hypothesis,
    beam_search,
    greedy_search,
    length_penalty,
    max_target_lengths,
)
from rnnkit.models.translate.model import Seq2Seq, Seq2SeqConfig, build_seq2seq

BOS, EOS = 2, 3
SMALL = Seq2SeqConfig(embedding_dim=8, hidden_size=6, decoder_hidden_size=10, dropout=0.0)
CONFIGS = [
    {},
    {"attention": "general", "input_feed": False, "mode": "gru"},
    {"attention": "none"},
]


def _model(changes: dict[str, object], vocab: int = 9, seed: int = 0) -> Seq2Seq:
    torch.manual_seed(seed)
    model = build_seq2seq(dataclasses.replace(SMALL, **changes), 9, vocab)  # type: ignore[arg-type]
    with torch.no_grad():  # sharper distributions than at initialisation: varied lengths
        model.decoder.generator.weight.mul_(8.0)
        model.decoder.generator.bias[EOS] += 0.3
    return model.eval()


def _sources(n: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = random.Random(seed)
    src = [[rng.randrange(4, 9) for _ in range(rng.randint(1, 7))] for _ in range(n)]
    batch = pair_batches(src, [[4]] * n, BOS, EOS, batch_size=n)[0]
    return batch.src_ids, batch.src_lengths


def _same(a: Hypothesis, b: Hypothesis) -> None:
    assert a.tokens == b.tokens
    assert a.score == pytest.approx(b.score, abs=1e-4)
    assert (a.attention is None) == (b.attention is None)
    if a.attention is not None and b.attention is not None:
        torch.testing.assert_close(a.attention, b.attention, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("changes", CONFIGS)
def test_beam_of_one_is_greedy(changes: dict[str, object]) -> None:
    ended = []  # whether each greedy translation ended with <eos> (else: at its length limit)
    for seed in (0, 1, 3):
        model = _model(changes, seed=seed)
        ids, lengths = _sources(seed=seed)
        limits = max_target_lengths(lengths, 1.5, 2)
        greedy = greedy_search(model, ids, lengths, BOS, EOS, limits)
        beam = beam_search(model, ids, lengths, BOS, EOS, limits, beam_size=1, alpha=0.6)
        for g, b, limit in zip(greedy, beam, limits, strict=True):
            _same(g, b)
            ended.append(len(g.tokens) < limit)
    assert any(ended) and not all(ended)


@pytest.mark.parametrize("changes", CONFIGS)
@pytest.mark.parametrize("k", [2, 5])
def test_batched_beam_equals_one_sentence_at_a_time(changes: dict[str, object], k: int) -> None:
    model = _model(changes, seed=1)
    ids, lengths = _sources(seed=1)
    limits = max_target_lengths(lengths, 1.5, 2)
    batched = beam_search(model, ids, lengths, BOS, EOS, limits, beam_size=k, alpha=0.6)
    for i, hyp in enumerate(batched):
        n = int(lengths[i])
        alone = beam_search(
            model, ids[i : i + 1, :n], lengths[i : i + 1], BOS, EOS, [limits[i]], k, 0.6
        )
        _same(hyp, alone[0])


def _sequence_log_prob(model: Seq2Seq, src: torch.Tensor, tokens: list[int]) -> float:
    """Teacher-forced log-probability of ``tokens`` (pad and bos forbidden, as in decoding)."""
    memory, state = model.encode(src, torch.tensor([src.shape[1]]))
    prev, total = torch.tensor([BOS]), 0.0
    for token in tokens:
        step = model.step(prev, state, memory)
        logits = step.logits.clone()
        logits[:, [0, BOS]] = float("-inf")
        total += float(torch.log_softmax(logits, -1)[0, token])
        prev, state = torch.tensor([token]), step.state
    return total


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_exhaustive_beam_finds_the_brute_force_best(alpha: float) -> None:
    model = _model({}, vocab=6, seed=2)  # tokens <unk>, <eos>, 4, 5 may be emitted
    src = torch.tensor([[4, 7, 5]])
    best: tuple[float, list[int]] | None = None
    with torch.no_grad():
        for length in (1, 2, 3):
            for body in itertools.product([1, 4, 5], repeat=length - 1):
                endings = [[EOS]] + ([[1], [4], [5]] if length == 3 else [])
                for end in endings:
                    seq = [*body, *end]
                    score = _sequence_log_prob(model, src, seq) / length_penalty(len(seq), alpha)
                    if best is None or score > best[0]:
                        best = (score, [t for t in seq if t != EOS])
    assert best is not None
    found = beam_search(model, src, torch.tensor([3]), BOS, EOS, [3], beam_size=64, alpha=alpha)
    assert found[0].tokens == best[1]
    assert found[0].normalized == pytest.approx(best[0], abs=1e-4)


def test_limits_and_forbidden_tokens() -> None:
    model = _model({}, seed=3)
    with torch.no_grad():
        model.decoder.generator.bias[EOS] -= 100.0  # never ends by itself
    ids, lengths = _sources(seed=3)
    limits = max_target_lengths(lengths, 1.0, 1)
    assert limits == [int(n) + 1 for n in lengths]
    for hyps in (
        greedy_search(model, ids, lengths, BOS, EOS, limits),
        beam_search(model, ids, lengths, BOS, EOS, limits, beam_size=3),
    ):
        for hyp, limit in zip(hyps, limits, strict=True):
            assert len(hyp.tokens) == limit
            assert 0 not in hyp.tokens and BOS not in hyp.tokens
            assert hyp.attention is not None and hyp.attention.shape[0] == limit


def test_length_penalty_and_bad_options() -> None:
    assert length_penalty(7, 0.0) == 1.0
    assert length_penalty(7, 1.0) == pytest.approx(2.0)
    assert max_target_lengths(torch.tensor([4, 10]), 1.5, 0) == [6, 15]
    with pytest.raises(ConfigError):
        max_target_lengths(torch.tensor([4]), 0.0, 0)
    ids, lengths = _sources(1)
    with pytest.raises(ConfigError, match="beam size"):
        beam_search(_model({}), ids, lengths, BOS, EOS, [3], beam_size=0)
