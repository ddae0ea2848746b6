"""The tagger exported to ONNX and int8: same emissions and tags as the torch model on batches
of lengths and sizes unlike the ones it was exported with (GRU and LSTM, both char encoders)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from rnnkit.data.conll import read_conll
from rnnkit.errors import RnnkitError
from rnnkit.models.tag.artifact import TextTagger
from tests.export.common import exported, random_sentences
from tests.models.tag.test_artifact import FIXTURES, make_tagger

CASES = [("lstm", "crf", "cnn"), ("gru", "softmax", "lstm"), ("gru", "crf", "none")]


def trained_tagger(mode: str, head: str, chars: str) -> TextTagger:
    base = make_tagger(head)
    config = dataclasses.replace(base.config, mode=mode, char_encoder=chars, hidden_size=16)
    torch.manual_seed(0)
    model = base.build_model(config, base.vocab, base.chars, base.tags, base.scheme)
    tagger = TextTagger(
        model, config, base.vocab, base.chars, base.tags, base.scheme, base.pipeline
    )
    sentences = read_conll(FIXTURES / "pos.conll")
    batches = tagger.batches([s.tokens for s in sentences], [s.tags for s in sentences], 4)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    model.train()
    for _ in range(5):
        for batch in batches:
            opt.zero_grad()
            loss = model(batch).loss
            assert loss is not None
            loss.backward()
            opt.step()
    return tagger.eval()


def _words(tagger: TextTagger) -> list[str]:
    return [*list(tagger.vocab)[2:], "Unseen", "zebra-like", "42"]


@pytest.mark.parametrize(("mode", "head", "chars"), CASES)
def test_onnx_gives_the_same_emissions_and_tags(
    mode: str, head: str, chars: str, tmp_path: Path
) -> None:
    tagger = trained_tagger(mode, head, chars)
    onnx = exported(tagger, tmp_path, "onnx")
    for size, seed in ((1, 1), (7, 2), (40, 3)):
        sentences = random_sentences(_words(tagger), size, seed)
        (batch,) = tagger.batches(sentences, batch_size=size, bucket=0)
        with torch.no_grad():
            expected = tagger.model(batch).logits
        torch.testing.assert_close(onnx.model(batch).logits, expected, atol=1e-4, rtol=1e-4)
        assert onnx.tag(sentences) == tagger.tag(sentences)
    sentences = random_sentences(_words(tagger), 50, 4)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(3)  # three batches of 16 or fewer run at once
        assert onnx.batch_workers == 3 and tagger.batch_workers == 1
        assert onnx.tag(sentences, batch_size=16) == tagger.tag(sentences, batch_size=16)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize(("mode", "head", "chars"), CASES[:2])
def test_int8_tags_agree_on_99_percent_of_tokens(
    mode: str, head: str, chars: str, tmp_path: Path
) -> None:
    tagger = trained_tagger(mode, head, chars)
    int8 = exported(tagger, tmp_path, "int8")
    sentences = random_sentences(_words(tagger), 200, 4)
    expected, got = tagger.tag(sentences), int8.tag(sentences)
    same = sum(
        a == b for s, t in zip(expected, got, strict=True) for a, b in zip(s, t, strict=True)
    )
    assert same / sum(map(len, expected)) >= 0.99
    texts = ["The dog sees a bird .", "She sings"]
    assert int8.predict(texts)[0].tokens == tagger.predict(texts)[0].tokens
    with pytest.raises(RnnkitError, match=r"exported \(int8\) run cannot be saved"):
        int8.save(tmp_path / "again")  # it would not be a torch run directory
