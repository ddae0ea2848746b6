"""train_translator / evaluate_translator / plot_attention on the fixture pairs: the contract test
(train → save → load → translate identical), subwords in the run directory, resume refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
import sacrebleu

from rnnkit.config import build_config
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError
from rnnkit.fileio import read_json
from rnnkit.models.translate import (
    TranslateRunConfig,
    evaluate_translator,
    plot_attention,
    train_translator,
)
from rnnkit.models.translate.artifact import Translator

FIXTURES = Path(__file__).parents[2] / "fixtures" / "translate"
TRAIN, DEV = FIXTURES / "train.tsv", FIXTURES / "dev.tsv"
TINY = [
    "model.embedding_dim=8",
    "model.hidden_size=8",
    "model.decoder_hidden_size=8",
    "model.dropout=0",
    "train.max_epochs=2",
    "train.progress=false",
    "train.plots=false",
    "data.batch_size=16",
    "decode.beam_size=3",
    "data.source_pipeline=split",  # the word tokenizer is tested in test_translator.py
    "data.target_pipeline=split",
]


def _config(*extra: str) -> TranslateRunConfig:
    return build_config(TranslateRunConfig, None, [*TINY, *extra])


def test_train_save_load_translate_identical(tmp_path: Path) -> None:
    cfg = _config("model.attention=general", "model.label_smoothing=0.1")
    result = train_translator(TRAIN, DEV, tmp_path, cfg, seed=1, test_path=DEV)
    for name in ("config.json", "model.safetensors", "metrics.json", "train_log.jsonl"):
        assert (tmp_path / name).is_file()
    metrics = read_json(tmp_path / "metrics.json")
    assert metrics["dev"] == result.dev.to_json() and metrics["test"]["sentences"] == 8
    texts = ["Two three five.", "Nine.", "Ten ten one eight."]
    loaded = Translator.load(tmp_path)
    for beam in (1, 3):
        trained = result.translator.translate(texts, beam)
        again = loaded.translate(texts, beam)
        assert [t.text for t in again] == [t.text for t in trained]
        assert [t.score for t in again] == pytest.approx([t.score for t in trained], abs=1e-5)
    assert evaluate_translator(tmp_path, DEV).to_json() == result.dev.to_json()


def test_scores_are_sacrebleu_on_detokenized_text(tmp_path: Path) -> None:
    result = train_translator(
        TRAIN, DEV, tmp_path, _config("model.attention=dot", "model.decoder_hidden_size=16"), seed=0
    )
    scores = result.dev
    assert scores.bleu == pytest.approx(
        sacrebleu.corpus_bleu(scores.hypotheses, [scores.references]).score
    )
    gold = [Pair(r, r) for r in scores.references]
    assert 0.0 <= scores.chrf <= 100.0 and scores.sentences == 8
    assert evaluate_translator(result.translator, gold, beam_size=1).sentences == 8


def test_subwords_are_learnt_and_saved_in_the_run(tmp_path: Path) -> None:
    cfg = _config("data.subwords=true", "data.subword_vocab_size=40", "model.tie_embeddings=true")
    result = train_translator(TRAIN, DEV, tmp_path, cfg, seed=0)
    assert (tmp_path / "source.spm.model").is_file() and (tmp_path / "target.spm.model").is_file()
    assert any(tok.startswith("▁") for tok in result.translator.tgt_vocab)
    loaded = Translator.load(tmp_path)
    texts = ["Seven eight.", "One two three four."]
    assert [t.text for t in loaded.translate(texts)] == [
        t.text for t in result.translator.translate(texts)
    ]


def test_refuses_to_overwrite_and_plots_attention(tmp_path: Path) -> None:
    result = train_translator(TRAIN, DEV, tmp_path, _config("train.max_epochs=1"), seed=0)
    with pytest.raises(ConfigError, match="already holds"):
        train_translator(TRAIN, DEV, tmp_path, _config("train.max_epochs=1"), seed=0)
    (translation,) = result.translator.translate(["Five six seven."], beam_size=1)
    png = plot_attention(translation, tmp_path / "att.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plain = train_translator(
        TRAIN, DEV, tmp_path / "plain",
        _config("train.max_epochs=1", "model.attention=none"),
    )  # fmt: skip
    (no_attention,) = plain.translator.translate(["Five six."], beam_size=1)
    with pytest.raises(ConfigError, match="no attention"):
        plot_attention(no_attention, tmp_path / "none.png")


def test_bad_config_values() -> None:
    with pytest.raises(ConfigError):
        _config("data.subword_type=wordpiece")
    with pytest.raises(ConfigError):
        _config("decode.beam_size=0")


def test_resume_reads_the_saved_subwords_and_checks_the_config(tmp_path: Path) -> None:
    sets = ("data.subwords=true", "data.subword_vocab_size=40", "train.max_epochs=1")
    first = train_translator(TRAIN, DEV, tmp_path, _config(*sets), seed=0)
    spm = (tmp_path / "target.spm.model").read_bytes()
    again = train_translator(TRAIN, DEV, tmp_path, _config(*sets), seed=0, resume=True)
    assert (tmp_path / "target.spm.model").read_bytes() == spm
    assert again.dev.hypotheses == first.dev.hypotheses
    changed = _config(*sets, "model.hidden_size=4")
    with pytest.raises(ConfigError, match="cannot resume"):
        train_translator(TRAIN, DEV, tmp_path, changed, seed=0, resume=True)
