"""TextLM: tokenization at both levels, <unk> and blank lines, save/load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.models.common import artifact as base
from rnnkit.models.lm.artifact import TextLM, line_tokens
from rnnkit.models.lm.model import LanguageModel, LMConfig
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab


def make(level: str = "word", pipeline: Pipeline | None = None) -> TextLM:
    torch.manual_seed(0)
    cfg = LMConfig(level=level, embedding_dim=4, hidden_size=5, num_layers=1)  # type: ignore[arg-type]
    tokens = [list("ab c")] if level == "char" else [["the", "cat"]]
    vocab = Vocab.build(tokens, specials=("<unk>", "<eos>"))
    return TextLM(LanguageModel(cfg, len(vocab)), cfg, vocab, pipeline)


def test_word_stream_skips_blank_lines_and_maps_unseen_words_to_unk() -> None:
    lm = make()
    stream = lm.encode_stream(["the cat", "", "   ", "the dog"]).tolist()
    unk, eos = lm.vocab.unk_id, lm.eos_id
    the, cat = lm.vocab.id("the"), lm.vocab.id("cat")
    assert stream == [the, cat, eos, the, unk, eos]
    assert lm.detokenize(stream) == "the cat\nthe <unk>\n"
    assert line_tokens(["a  b\n", "\t", "c"], "word") == [["a", "b"], ["c"]]


def test_char_level_and_pipeline() -> None:
    lm = make("char")
    assert lm.tokenize("ab c") == ["a", "b", " ", "c"]
    assert lm.detokenize(lm.encode_stream(["ab", "cz"]).tolist()) == "ab\nc<unk>\n"
    lower = make(pipeline=Pipeline(["lower", "split"]))
    assert lower.tokenize("The CAT") == ["the", "cat"]


def test_save_load_round_trip(tmp_path: Path) -> None:
    lm = make(pipeline=Pipeline(["lower", "split"]))
    lm.save(tmp_path / "run", {"data": {"bptt": 5}})
    loaded = base.load(tmp_path / "run")
    assert isinstance(loaded, TextLM)
    assert loaded.vocab == lm.vocab and loaded.config == lm.config and loaded.labels is None
    assert loaded.tokenize("The CAT") == ["the", "cat"]
    ids = torch.tensor([[0, 1, 2, 3]])
    torch.testing.assert_close(loaded.model(ids).hidden, lm.model.eval()(ids).hidden)


def test_bad_vocab_labels_and_config(tmp_path: Path) -> None:
    cfg = LMConfig(embedding_dim=4, hidden_size=4)
    with pytest.raises(ConfigError, match="<eos>"):
        TextLM(LanguageModel(cfg, 3), cfg, Vocab(["<unk>", "a", "b"], specials=1))
    vocab = Vocab(["<unk>", "<eos>", "a"], specials=2)
    with pytest.raises(ConfigError, match="labels"):
        TextLM(LanguageModel(cfg, 3), cfg, vocab, labels=["x"])
    lm = TextLM(LanguageModel(cfg, 3), cfg, vocab)
    with pytest.raises(ConfigError, match="not conditioned"):
        lm.label_id("x")
    lm.save(tmp_path / "run")
    doc = (tmp_path / "run" / "config.json").read_text(encoding="utf-8")
    (tmp_path / "run" / "config.json").write_text(
        doc.replace('"hidden_size": 4', '"hidden_size": -4'), encoding="utf-8"
    )
    with pytest.raises(DataFormatError, match="hidden_size"):
        TextLM.load(tmp_path / "run")
