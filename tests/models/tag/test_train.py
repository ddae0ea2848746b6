"""train_tagger / evaluate_tagger end to end on tiny fixtures, and their input handling."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from rnnkit.data.tagschemes import is_valid
from rnnkit.errors import ConfigError
from rnnkit.models.tag import (
    TagDataConfig,
    TagRunConfig,
    TagTrainResult,
    conll_token_lists,
    evaluate_tagger,
    predict_stream,
    read_tagged,
    train_tagger,
)
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.model import TaggerConfig
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig

FIXTURES = Path(__file__).parents[2] / "fixtures" / "tagging"
MODEL = TaggerConfig(embeddings=None, embedding_dim=8, hidden_size=8, char_dim=4, char_size=6)
TRAIN = TrainConfig(
    max_epochs=8,
    optim=OptimConfig(lr=0.03),
    progress=False,
    plots=False,
    device="cpu",
    early_stopping=None,
    checkpoint_every=None,
)


def config(**data: object) -> TagRunConfig:
    return TagRunConfig(MODEL, TagDataConfig(batch_size=4, **data), TRAIN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pos_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TagTrainResult]:
    tmp = tmp_path_factory.mktemp("pos")
    pos = FIXTURES / "pos.conll"
    return tmp, train_tagger(pos, pos, tmp / "run", config(), seed=1, test_path=pos)


def test_pos_run_directory_and_evaluate(pos_run: tuple[Path, TagTrainResult]) -> None:
    tmp_path, result = pos_run
    pos = FIXTURES / "pos.conll"
    assert result.dev.micro is None and result.dev.accuracy > 0.8
    assert result.test is not None and result.tokens_per_second > 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["dev"]["accuracy"] == pytest.approx(result.dev.accuracy)
    again = evaluate_tagger(tmp_path / "run", pos)
    assert again.accuracy == pytest.approx(result.dev.accuracy)
    with pytest.raises(ConfigError, match="already holds"):
        train_tagger(pos, pos, tmp_path / "run", config(), seed=1)
    with pytest.raises(ConfigError, match="no checkpoint"):
        train_tagger(pos, pos, tmp_path / "new", config(), seed=1, resume=True)


def test_ner_constrained_crf_predicts_valid_spans(tmp_path: Path) -> None:
    ner = FIXTURES / "ner.conll"
    result = train_tagger(ner, ner, tmp_path / "run", config(), seed=2)
    tagger = result.tagger
    assert tagger.scheme == "iob2" and result.dev.micro is not None
    texts = ["Paris met New York London", "York I-PER John . lives", "big big big"]
    for sentence in tagger.predict(texts):
        assert is_valid(sentence.tags, "iob2"), sentence


def test_model_scheme_bioes_and_iob1_files(tmp_path: Path) -> None:
    iob1 = tmp_path / "iob1.conll"
    iob1.write_text("John\tI-PER\nSmith\tI-PER\nruns\tO\n\nAnn\tI-PER\n\n", encoding="utf-8")
    cfg = TagRunConfig(MODEL, TagDataConfig(tag_scheme="iob1", model_scheme="bioes"), TRAIN)
    result = train_tagger(iob1, iob1, tmp_path / "run", cfg)
    assert result.tagger.scheme == "bioes"
    assert set(result.tagger.tags) <= {"B-PER", "E-PER", "S-PER", "O"}
    with pytest.raises(ConfigError, match="model_scheme"):
        pos = FIXTURES / "pos.conll"
        train_tagger(
            pos,
            pos,
            tmp_path / "r2",
            TagRunConfig(MODEL, TagDataConfig(model_scheme="bioes"), TRAIN),
        )


def test_conllu_skips_multiword_and_empty_nodes_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="rnnkit"):
        sentences = read_tagged(FIXTURES / "words.conllu")
    assert sentences[0].tokens == ("I", "do", "n't", "know", ".")
    assert "tea" in sentences[1].tokens and sentences[1].tokens.count("likes") == 1
    assert "skipped 1 multi-word token line(s) and 1 empty node(s)" in caplog.text
    xpos = read_tagged(FIXTURES / "words.conllu", TagDataConfig(tag_field="xpos"))
    assert xpos[0].tags[0] == "PRP"


def test_conll_token_lists_and_predict_stream(pos_run: tuple[Path, TagTrainResult]) -> None:
    lines = ["The\tX", "dog", "", "", "Birds", "fly", "."]
    assert list(conll_token_lists(lines)) == [["The", "dog"], ["Birds", "fly", "."]]
    with pytest.raises(ConfigError):
        list(conll_token_lists(["a\tb"], token_column=3))
    tagger: TextTagger = pos_run[1].tagger
    raw = list(predict_stream(tagger, ["The dog runs .", "", "Birds fly ."], chunk=2))
    assert [len(s) for s in raw] == [4, 0, 3]
    pre = list(predict_stream(tagger, [["The", "dog", "runs", "."], ["Birds"]], chunk=1))
    assert pre[0].tags == raw[0].tags
    with pytest.raises(ConfigError, match="mix"):
        list(predict_stream(tagger, ["a b", ["a"]]))  # type: ignore[arg-type]


def test_bad_config_values() -> None:
    for bad in ({"format": "csv"}, {"tag_scheme": "iob3"}, {"model_scheme": "iob1"}):
        with pytest.raises(ConfigError):
            TagDataConfig(**bad)  # type: ignore[arg-type]
