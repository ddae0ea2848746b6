"""Translator: pair batches, save → load → translate, <unk> replacement, bad run configs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.translate.artifact import (
    DecodeConfig,
    SubwordSegmenter,
    Translator,
    WordSegmenter,
    pair_batches,
)
from rnnkit.models.translate.model import Seq2SeqConfig, build_seq2seq
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.subword import SubwordModel
from rnnkit.text.vocab import Vocab

PAIRS = [
    Pair("The dog runs.", "El perro corre."),
    Pair("The cat sleeps.", "El gato duerme."),
    Pair("A dog sleeps.", "Un perro duerme."),
]
CONFIG = Seq2SeqConfig(embedding_dim=8, hidden_size=6, decoder_hidden_size=8, dropout=0.0)


def _translator(subwords: bool = False, config: Seq2SeqConfig = CONFIG) -> Translator:
    if subwords:
        src = SubwordSegmenter(
            SubwordModel.train([p.source for p in PAIRS], 30), "source.spm.model"
        )
        tgt = SubwordSegmenter(
            SubwordModel.train([p.target for p in PAIRS], 30), "target.spm.model"
        )
        source, target = src, tgt
    else:
        source, target = WordSegmenter(Pipeline(["word"])), WordSegmenter(Pipeline(["word"]))  # type: ignore[assignment]
    src_vocab = Vocab.build([source.tokenize(p.source) for p in PAIRS])
    tgt_vocab = Vocab.build([target.tokenize(p.target) for p in PAIRS])
    torch.manual_seed(0)
    model = build_seq2seq(config, len(src_vocab), len(tgt_vocab))
    decode = DecodeConfig(beam_size=3, max_length_offset=3)
    return Translator(model, config, source, target, src_vocab, tgt_vocab, decode, 10)


def test_pair_batches_put_bos_and_eos_around_targets() -> None:
    batches = pair_batches([[5, 6, 7], [8]], [[9], [10, 11]], bos=2, eos=3, batch_size=2)
    (b,) = batches
    assert b.src_ids.tolist() == [[5, 6, 7], [8, 0, 0]]
    assert b.tgt_in.tolist() == [[2, 9, 0], [2, 10, 11]]
    assert b.tgt_out.tolist() == [[9, 3, 0], [10, 11, 3]]
    bucketed = pair_batches([[5, 6, 7], [8], [9, 9]], [[4]] * 3, 2, 3, batch_size=2, bucket=2)
    assert [x.index.tolist() for x in bucketed] == [[1, 2], [0]]
    with pytest.raises(ConfigError):
        pair_batches([[5]], [], 2, 3, 2)


@pytest.mark.parametrize("subwords", [False, True])
def test_save_load_translate_identical(subwords: bool, tmp_path: Path) -> None:
    translator = _translator(subwords, Seq2SeqConfig(**{**CONFIG.__dict__, "tie_embeddings": True}))
    texts = ["The dog sleeps.", "A cat runs."]
    before = translator.translate(texts)
    translator.save(tmp_path)
    if subwords:
        assert (tmp_path / "source.spm.model").is_file()
    loaded = rnnkit.load(tmp_path)
    assert isinstance(loaded, Translator)
    after = loaded.translate(texts)
    assert [t.tokens for t in after] == [t.tokens for t in before]
    assert [t.score for t in after] == pytest.approx([t.score for t in before], abs=1e-5)
    assert loaded.decode == translator.decode and loaded.max_source_length == 10
    greedy = loaded.translate(texts, beam_size=1)
    assert all(t.attention is not None and t.attention.shape[1] for t in greedy)


def test_unk_replacement_copies_the_most_attended_source_token() -> None:
    translator = _translator()
    with torch.no_grad():
        translator.model.decoder.generator.bias[translator.tgt_vocab.unk_id] += 100.0
    (out,) = translator.translate(["The zebra runs."], beam_size=1)
    assert out.source_tokens == ["The", "zebra", "runs", "."]
    assert out.attention is not None and len(out.tokens) == 9  # 1.5 · 4 source tokens + 3
    for i, token in enumerate(out.tokens):
        assert token == out.source_tokens[int(out.attention[i].argmax())]
    (kept,) = translator.translate(["The zebra runs."], beam_size=1, unk_replace=False)
    assert set(kept.tokens) == {"<unk>"}


def test_bad_run_configs(tmp_path: Path) -> None:
    translator = _translator()
    translator.save(tmp_path)
    doc = json.loads((tmp_path / "config.json").read_text())
    doc["source"] = {"type": "chars"}
    (tmp_path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(DataFormatError, match="words"):
        Translator.load(tmp_path)
    doc["source"] = {"type": "subwords", "file": "../elsewhere.model"}
    (tmp_path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(DataFormatError, match="subword model file"):
        Translator.load(tmp_path)
    with pytest.raises(ConfigError, match="beam_size"):
        DecodeConfig(beam_size=0)


@pytest.mark.parametrize("beam", [1, 3])
def test_translate_buckets_by_length_and_answers_in_input_order(beam: int) -> None:
    translator = _translator()
    words = ["the", "dog", "cat", "runs", "sleeps", "a"]
    rng = random.Random(4)
    sources = [" ".join(rng.choice(words) for _ in range(rng.randrange(1, 9))) for _ in range(15)]
    together = translator.translate(sources, beam, batch_size=4)
    alone = [translator.translate([s], beam)[0] for s in sources]
    assert [t.tokens for t in together] == [t.tokens for t in alone]
    assert [t.source_tokens for t in together] == [s.split() for s in sources]
    assert [t.score for t in together] == pytest.approx([t.score for t in alone], abs=1e-4)
