"""The translator exported to ONNX and int8: encoder and decoder step as the torch model's,
greedy and beam translations identical (ONNX) on sources of lengths and batch sizes unlike the
exporter's; LSTM with additive attention and input feeding, GRU with dot attention, no
attention."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from rnnkit.models.translate.artifact import Translator
from rnnkit.models.translate.model import Seq2SeqConfig, build_seq2seq
from rnnkit.nn.pooling import length_mask
from tests.export.common import exported
from tests.models.translate.test_artifact import PAIRS, _translator

CONFIGS = [
    Seq2SeqConfig(embedding_dim=8, hidden_size=6, decoder_hidden_size=8, dropout=0.0),
    Seq2SeqConfig(
        mode="gru",
        embedding_dim=8,
        hidden_size=6,
        encoder_layers=2,
        decoder_layers=2,
        decoder_hidden_size=12,
        attention="dot",
        input_feed=False,
        dropout=0.0,
    ),
    Seq2SeqConfig(embedding_dim=8, hidden_size=6, attention="none", dropout=0.0),
]


def _sources(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = [*" ".join(p.source for p in PAIRS).split(), "unknown"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 14))) for _ in range(n)]


def trained(config: Seq2SeqConfig) -> Translator:
    tr = _translator(config=config)
    torch.manual_seed(0)
    tr.model = build_seq2seq(config, len(tr.src_vocab), len(tr.tgt_vocab))
    batches = tr.batches(PAIRS, batch_size=3)
    opt = torch.optim.Adam(tr.model.parameters(), lr=0.05)
    tr.model.train()
    for _ in range(15):
        for batch in batches:
            opt.zero_grad()
            tr.model(batch).loss.backward()
            opt.step()
    return tr.eval()


@pytest.mark.parametrize("config", CONFIGS, ids=["lstm-additive", "gru-dot", "none"])
def test_onnx_encodes_steps_and_translates_as_torch(config: Seq2SeqConfig, tmp_path: Path) -> None:
    tr = trained(config)
    onnx = exported(tr, tmp_path, "onnx")
    lengths = torch.tensor([9, 1, 4, 9, 2, 7, 3])
    ids = torch.randint(2, len(tr.src_vocab), (7, 9)).masked_fill(~length_mask(lengths, 9), 0)
    with torch.no_grad():
        memory, state = tr.model.encode(ids, lengths)
        step = tr.model.step(torch.full((7,), tr.bos), state, memory)
        step2 = tr.model.step(step.logits.argmax(1), step.state, memory)
    o_memory, o_state = onnx.model.encode(ids, lengths)
    o_step = onnx.model.step(torch.full((7,), tr.bos), o_state, o_memory)
    o_step2 = onnx.model.step(o_step.logits.argmax(1), o_step.state, o_memory)
    torch.testing.assert_close(o_memory.keys, memory.keys, atol=1e-4, rtol=0)
    for got, want in ((o_step, step), (o_step2, step2)):
        torch.testing.assert_close(got.logits, want.logits, atol=1e-4, rtol=0)
        if want.weights is not None:
            assert got.weights is not None
            torch.testing.assert_close(got.weights, want.weights, atol=1e-4, rtol=0)
    sources = [p.source for p in PAIRS] + _sources(20, seed=1)
    for beam in (1, 3):
        want_t = [t.text for t in tr.translate(sources, beam_size=beam)]
        assert [t.text for t in onnx.translate(sources, beam_size=beam)] == want_t


def test_int8_translates_the_training_pairs_as_torch(tmp_path: Path) -> None:
    tr = trained(CONFIGS[0])
    int8 = exported(tr, tmp_path, "int8")
    sources = [p.source for p in PAIRS]
    want = [t.text for t in tr.translate(sources, beam_size=1)]
    assert [t.text for t in int8.translate(sources, beam_size=1)] == want
