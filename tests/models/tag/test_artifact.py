"""TextTagger: the contract test (train, save, load, same tags) and its lookups."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from rnnkit.data.conll import read_conll
from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.common import artifact as base
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.model import TaggerConfig
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab

FIXTURES = Path(__file__).parents[2] / "fixtures" / "tagging"
SMALL = TaggerConfig(embeddings=None, embedding_dim=8, hidden_size=8, char_dim=4, char_size=6)


def make_tagger(head: str, scheme: str = "none", path: str = "pos.conll") -> TextTagger:
    sentences = read_conll(FIXTURES / path)
    tokens = [list(s.tokens) for s in sentences]
    tags = sorted({t for s in sentences for t in s.tags})
    cfg = TaggerConfig(**{**SMALL.__dict__, "head": head})
    vocab, chars = Vocab.build(tokens), TextTagger.char_vocab(tokens)
    torch.manual_seed(0)
    model = TextTagger.build_model(cfg, vocab, chars, tags, scheme)
    return TextTagger(model, cfg, vocab, chars, tags, scheme, Pipeline(["split"]))


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_train_save_load_predict_gives_identical_tags(head: str, tmp_path: Path) -> None:
    tagger = make_tagger(head)
    sentences = read_conll(FIXTURES / "pos.conll")
    batches = tagger.batches([s.tokens for s in sentences], [s.tags for s in sentences], 4)
    opt = torch.optim.Adam(tagger.model.parameters(), lr=0.03)
    tagger.model.train()
    for _ in range(10):
        for batch in batches:
            opt.zero_grad()
            loss = tagger.model(batch).loss
            assert loss is not None
            loss.backward()
            opt.step()
    texts = ["The dog sees a bird .", "Zebras fly quickly .", "She sings"]
    before = tagger.predict(texts)
    assert [t.tags[:2] for t in before[:1]] == [("DET", "NOUN")]  # it learned something
    tagger.save(tmp_path)
    loaded = base.load(tmp_path)
    assert isinstance(loaded, TextTagger)
    assert loaded.predict(texts) == before
    with torch.no_grad():
        for a, b in zip(tagger.model.parameters(), loaded.model.parameters(), strict=True):
            torch.testing.assert_close(a, b)
    assert loaded.tags == tagger.tags and loaded.vocab == tagger.vocab


def test_lowercase_lookup_and_unknowns() -> None:
    tagger = make_tagger("crf")
    the, unk = tagger.vocab.id("the"), tagger.vocab.unk_id
    assert tagger.word_ids(["THE", "tHe", "Qqq"]) == [the, the, unk]
    tagger.config = TaggerConfig(**{**SMALL.__dict__, "lowercase_lookup": False})
    assert tagger.word_ids(["tHe"]) == [unk]
    batch = tagger.batches([["The", "€uro"]])[0]
    assert int(batch.chars.max()) < len(tagger.chars)
    with pytest.raises(ConfigError, match="never seen"):
        tagger.tag_ids(["NOUN", "PROPN"])
    with pytest.raises(ConfigError):
        tagger.batches([[]])


def test_predict_keeps_order_and_empty_texts() -> None:
    tagger = make_tagger("softmax")
    texts = ["a b c d e f g", "", "x", "y z"]
    out = tagger.predict(texts, batch_size=2)
    assert [len(s) for s in out] == [7, 0, 1, 2]
    assert all(t in tagger.tags for s in out for t in s.tags)


def test_load_rejects_a_broken_config(tmp_path: Path) -> None:
    tagger = make_tagger("crf")
    tagger.save(tmp_path)
    doc = base.read_run_config(tmp_path)
    doc["scheme"] = "iobz"
    (tmp_path / "config.json").write_text(__import__("json").dumps(doc))
    with pytest.raises(DataFormatError, match="scheme"):
        TextTagger.load(tmp_path)


@pytest.mark.parametrize("head", ["crf", "softmax"])
def test_tag_buckets_by_length_and_answers_in_input_order(head: str) -> None:
    tagger = make_tagger(head)
    rng = random.Random(2)
    words = [*list(tagger.vocab)[2:], "Unseen", "x"]
    sentences = [[rng.choice(words) for _ in range(rng.randrange(1, 15))] for _ in range(40)]
    together = tagger.tag(sentences, batch_size=6)
    assert [len(t) for t in together] == [len(s) for s in sentences]
    assert together == [tagger.tag([s])[0] for s in sentences]
    assert tagger.tag([]) == []
    with pytest.raises(ConfigError, match="empty sentence"):
        tagger.tag([["a"], []])
