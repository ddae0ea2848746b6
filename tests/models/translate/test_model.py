"""Seq2Seq: config checks, padding, the two teacher-forcing paths, bridge, ties, the loss, and the
fast sanity task (reversing digit strings)."""

from __future__ import annotations

import dataclasses
import random
import time

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError
from rnnkit.models.translate.artifact import pair_batches
from rnnkit.models.translate.decode import greedy_search, max_target_lengths
from rnnkit.models.translate.model import PairBatch, Seq2SeqConfig, build_seq2seq
from rnnkit.nn import LSTMState

BOS, EOS = 2, 3
SMALL = Seq2SeqConfig(
    embedding_dim=8, hidden_size=6, decoder_hidden_size=10, dropout=0.0, attention_size=5
)


def _batch(seed: int = 0, n: int = 4, vocab: int = 12) -> PairBatch:
    rng = random.Random(seed)
    src = [[rng.randrange(4, vocab) for _ in range(rng.randint(1, 6))] for _ in range(n)]
    tgt = [[rng.randrange(4, vocab) for _ in range(rng.randint(1, 5))] for _ in range(n)]
    return pair_batches(src, tgt, BOS, EOS, batch_size=n)[0]


def _row(batch: PairBatch, i: int) -> PairBatch:
    """Row ``i`` of ``batch`` alone, without its padding."""
    s = int(batch.src_lengths[i])
    t = int((batch.tgt_out[i] != 0).sum())
    return PairBatch(
        batch.src_ids[i : i + 1, :s],
        batch.src_lengths[i : i + 1],
        batch.tgt_in[i : i + 1, :t],
        batch.tgt_out[i : i + 1, :t],
        batch.index[i : i + 1],
    )


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"attention": "dot", "decoder_hidden_size": 12},
        {"attention": "general", "input_feed": False},
        {"attention": "none", "mode": "gru"},
        {"encoder_layers": 2, "decoder_layers": 2, "bidirectional": False, "tie_embeddings": True},
    ],
)
def test_padded_batch_equals_each_pair_alone(changes: dict[str, object]) -> None:
    torch.manual_seed(0)
    model = build_seq2seq(dataclasses.replace(SMALL, **changes), 12, 12).eval()  # type: ignore[arg-type]
    batch = _batch()
    out = model(batch)
    for i in range(len(batch)):
        alone = model(_row(batch, i))
        t = alone.logits.shape[1]
        torch.testing.assert_close(out.logits[i, :t], alone.logits[0], atol=1e-5, rtol=1e-5)
        if out.attention is not None:
            assert alone.attention is not None
            s = int(batch.src_lengths[i])
            torch.testing.assert_close(out.attention[i, :t, :s], alone.attention[0])
            assert torch.all(out.attention[i, :, s:] == 0)


def test_parallel_teacher_forcing_equals_step_by_step() -> None:
    torch.manual_seed(1)
    model = build_seq2seq(dataclasses.replace(SMALL, input_feed=False), 12, 12).eval()
    batch = _batch(1)
    memory, state = model.encode(batch.src_ids, batch.src_lengths)
    fast, fast_att = model._teacher_force_parallel(batch.tgt_in, memory, state)
    slow, slow_att = model._teacher_force_steps(batch.tgt_in, memory, state, sampling=False)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    assert fast_att is not None and slow_att is not None
    torch.testing.assert_close(fast_att, slow_att, atol=1e-5, rtol=1e-5)


def test_loss_is_smoothed_cross_entropy_over_real_tokens() -> None:
    torch.manual_seed(2)
    batch = _batch(2)
    for eps in (0.0, 0.1):
        model = build_seq2seq(dataclasses.replace(SMALL, label_smoothing=eps), 12, 12).eval()
        out = model(batch)
        real = batch.tgt_out != 0
        expected = F.cross_entropy(out.logits[real], batch.tgt_out[real], label_smoothing=eps)
        torch.testing.assert_close(out.loss, expected)


def test_scheduled_sampling_only_in_training() -> None:
    torch.manual_seed(3)
    cfg = dataclasses.replace(SMALL, sampling_ratio=0.9)
    model = build_seq2seq(cfg, 12, 12)
    plain = build_seq2seq(SMALL, 12, 12)
    plain.load_state_dict(model.state_dict())
    batch = _batch(3, n=8)
    model.eval(), plain.eval()
    torch.testing.assert_close(model(batch).loss, plain(batch).loss)
    model.train(), plain.train()
    assert not torch.allclose(model(batch).loss, plain(batch).loss)


def test_every_parameter_gets_a_gradient_and_ties_are_shared() -> None:
    torch.manual_seed(4)
    for changes in ({"tie_embeddings": True}, {"attention": "none"}):
        model = build_seq2seq(dataclasses.replace(SMALL, **changes), 12, 9)
        model(_batch(4, vocab=9)).loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    tied = build_seq2seq(dataclasses.replace(SMALL, tie_embeddings=True), 12, 9)
    assert tied.decoder.generator.weight is tied.decoder.embedder.embedding.weight


def test_bridge_maps_top_encoder_layers() -> None:
    cfg = dataclasses.replace(SMALL, encoder_layers=3, decoder_layers=2)
    model = build_seq2seq(cfg, 12, 12)
    memory, state = model.encode(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    assert isinstance(state.rnn, LSTMState)
    assert state.rnn.h.shape == (2, 1, 10) and state.rnn.c.shape == (2, 1, 10)
    assert memory.keys.shape == (1, 3, 12)
    _, final = model.encoder(torch.tensor([[5, 6, 7]]), torch.tensor([3]))
    top = torch.cat([final.h[4], final.h[5]], -1)  # layer 3, both directions
    torch.testing.assert_close(state.rnn.h[1, 0], torch.tanh(model.bridge.h(top))[0])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "elman"}, "lstm' or 'gru"),
        ({"attention": "luong"}, "model.attention"),
        ({"decoder_layers": 2}, "decoder_layers"),
        ({"dropout": 1.0}, "dropout"),
        ({"sampling_ratio": -0.1}, "sampling_ratio"),
    ],
)
def test_bad_config(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(SMALL, **changes)  # type: ignore[arg-type]


def test_tied_embeddings_need_matching_sizes() -> None:
    with pytest.raises(ConfigError, match="attention"):
        build_seq2seq(dataclasses.replace(SMALL, attention="dot"), 12, 12)


def _reverse_pairs(rng: random.Random, n: int) -> tuple[list[list[int]], list[list[int]]]:
    src = [[rng.randrange(4, 14) for _ in range(rng.randint(3, 6))] for _ in range(n)]
    return src, [s[::-1] for s in src]


def test_sanity_task_reverses_digit_strings() -> None:
    """Issue 8's fast sanity task: >= 99 % exact match on held-out strings, < 1 min CPU."""
    start = time.process_time()
    rng = random.Random(0)
    torch.manual_seed(0)
    cfg = Seq2SeqConfig(embedding_dim=32, hidden_size=32, decoder_hidden_size=64, dropout=0.0)
    model = build_seq2seq(dataclasses.replace(cfg, input_feed=False), 14, 14)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    src, tgt = _reverse_pairs(rng, 3000)
    batches = pair_batches(src, tgt, BOS, EOS, batch_size=32, bucket=4)
    model.train()
    for _ in range(2):
        for batch in batches:
            optimizer.zero_grad()
            model(batch).loss.backward()
            optimizer.step()
    test_src, test_tgt = _reverse_pairs(rng, 300)
    batch = pair_batches(test_src, test_tgt, BOS, EOS, batch_size=300)[0]
    limits = max_target_lengths(batch.src_lengths, 1.0, 2)
    hyps = greedy_search(model, batch.src_ids, batch.src_lengths, BOS, EOS, limits)
    exact = sum(h.tokens == test_tgt[i] for h, i in zip(hyps, batch.index.tolist(), strict=True))
    assert exact / len(test_src) >= 0.99
    assert time.process_time() - start < 60


def test_hidden_size_sizes_the_decoder_unless_decoder_hidden_size_is_given() -> None:
    from rnnkit.config import build_config, config_from_dict

    same = build_seq2seq(build_config(Seq2SeqConfig, overrides=["hidden_size=12"]), 9, 9)
    assert same.decoder.rnn.hidden_size == 12
    own = Seq2SeqConfig(hidden_size=12, decoder_hidden_size=20)
    assert build_seq2seq(own, 9, 9).decoder.rnn.hidden_size == 20
    # a config.json written when the field defaulted to 256 still loads as it was
    saved = config_from_dict(Seq2SeqConfig, {"hidden_size": 64, "decoder_hidden_size": 256})
    assert saved.decoder_size == 256
