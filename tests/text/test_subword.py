"""SentencePiece wrapper: round trips, determinism, save/load, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnnkit.errors import ConfigError, DataFormatError
from rnnkit.text.subword import SubwordModel

TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "And the earth was without form, and void.",
    "And God said, Let there be light: and there was light.",
    "And God saw the light, that it was good.",
] * 5


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_round_trip_and_determinism(model_type: str, tmp_path: Path) -> None:
    model = SubwordModel.train(TEXTS, vocab_size=60, model_type=model_type)
    assert 8 <= len(model) <= 60
    for text in TEXTS[:4]:
        pieces = model.encode(text)
        assert len(pieces) > len(text.split()) / 2
        assert model.decode(pieces) == text
    assert SubwordModel.train(TEXTS, vocab_size=60, model_type=model_type) == model
    model.save(tmp_path / "m.model")
    loaded = SubwordModel.load(tmp_path / "m.model")
    assert loaded == model
    assert loaded.encode("the light was good") == model.encode("the light was good")


def test_bad_options_and_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="subword type"):
        SubwordModel.train(TEXTS, 50, "wordpiece")
    with pytest.raises(ConfigError, match="vocab_size"):
        SubwordModel.train(TEXTS, 2)
    with pytest.raises(ConfigError, match="no text"):
        SubwordModel.train(["", "  "], 50)
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a model")
    with pytest.raises(DataFormatError, match=r"bad\.model"):
        SubwordModel.load(bad)
    with pytest.raises(DataFormatError, match="cannot read"):
        SubwordModel.load(tmp_path / "missing.model")
