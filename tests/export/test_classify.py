"""The classifier exported to ONNX and int8: one network (several poolings, the hashed n-gram
bag, DeepMoji's skip connections, the character encoders) and an ensemble with a TF-IDF member,
on texts of lengths and batch sizes unlike the exporter's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.export import export_run
from rnnkit.models.classify.artifact import TextClassifier
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.model import ClassifierConfig, build_classifier
from rnnkit.models.classify.wide import TfidfLogReg
from tests.export.common import exported, needs
from tests.models.classify.test_artifact import make_texts, train_small

SMALL: dict[str, Any] = {"embedding_dim": 8, "hidden_size": 6}
CONFIGS = [
    ClassifierConfig(mode="lstm", pooling="attention", **SMALL),
    ClassifierConfig(mode="gru", pooling="last", num_layers=2, **SMALL),
    ClassifierConfig(mode="lstm", pooling="mean", bidirectional=False, ngrams=2, **SMALL),
    ClassifierConfig(mode="gru", pooling="max", skip_connections=True, **SMALL),
    ClassifierConfig(mode="lstm", pooling="attention", char_encoder="cnn", char_size=6, **SMALL),
    ClassifierConfig(pooling="concat", char_encoder="lstm", char_size=6, ngrams=2, **SMALL),
]
IDS = ["attention", "last-gru", "ngrams", "skip", "chars-cnn", "chars-lstm-concat"]


def _texts(n: int, seed: int) -> list[str]:
    texts = make_texts(n, seed)[0]
    return [*texts, "", "never seen words", "GOOOOD #hate", " ".join(texts)]  # odd, long


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_onnx_gives_the_same_probabilities(config: ClassifierConfig, tmp_path: Path) -> None:
    texts, labels = make_texts(40, seed=1)
    clf = train_small(config, texts, labels).eval()
    onnx = exported(clf, tmp_path, "onnx")
    for size, seed in ((1, 2), (9, 3), (70, 4)):
        sample = _texts(size, seed)
        np.testing.assert_allclose(
            onnx.predict_proba(sample, batch_size=size),
            clf.predict_proba(sample, batch_size=size),
            atol=1e-4,
        )
    one, two = onnx.predict(texts[:3]), clf.predict(texts[:3])
    assert [p.label for p in one] == [p.label for p in two]
    if config.pooling == "attention":
        assert one[0].attention == pytest.approx(two[0].attention, abs=1e-4)


@pytest.fixture(scope="module")
def ensemble() -> TextClassifier:
    """Two RNN members and a TF-IDF member with random weights (fitting its C grid over 2**18
    columns takes seconds; parity does not need a fitted member)."""
    texts, labels = make_texts(60, seed=5)
    config = ClassifierConfig(pooling="attention", tfidf_member=True, **SMALL)
    single = train_small(ClassifierConfig(pooling="attention", **SMALL), texts, labels)
    torch.manual_seed(1)
    other = build_classifier(config, len(single.vocab), len(single.labels))
    wide = TfidfLogReg(len(single.labels))
    wide.idf.uniform_(1.0, 4.0)
    wide.weight.normal_(0.0, 3.0)  # strong enough to move the average
    wide.bias.normal_()
    assert isinstance(single.model, torch.nn.Module)
    model = Ensemble([single.model, other], wide)  # type: ignore[list-item]
    return TextClassifier(model, config, single.vocab, single.labels, single.pipeline, 50)


@pytest.mark.parametrize("fmt", ["onnx", "int8"])
def test_an_ensemble_with_a_tfidf_member_averages_as_the_torch_model(
    fmt: str, ensemble: TextClassifier, tmp_path: Path
) -> None:
    clf = ensemble.eval()
    loaded = exported(clf, tmp_path, fmt)
    assert isinstance(loaded.model, Ensemble) and loaded.model.wide is not None
    sample = _texts(50, seed=6)
    expected = clf.predict_proba(sample)
    got = loaded.predict_proba(sample)
    if fmt == "onnx":
        np.testing.assert_allclose(got, expected, atol=1e-4)
    else:  # int8: close, and the same label almost everywhere
        assert np.abs(got - expected).max() < 0.05
        assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.95


def test_the_hierarchical_encoder_is_refused_by_name(tmp_path: Path) -> None:
    needs("onnx")
    texts, labels = make_texts(20, seed=1)
    clf = train_small(ClassifierConfig(hierarchical=True, **SMALL), texts, labels, steps=1)
    clf.save(tmp_path / "run")
    with pytest.raises(ConfigError, match=r"model\.hierarchical.*--format int8"):
        export_run(tmp_path / "run", "onnx", tmp_path / "out")
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["run"]
    int8 = exported(clf, tmp_path, "int8")  # int8 takes it
    assert int8.predict_proba(texts[:4]) == pytest.approx(clf.predict_proba(texts[:4]), abs=0.05)


def test_int8_keeps_the_character_encoder(tmp_path: Path) -> None:
    texts, labels = make_texts(40, seed=1)
    config = ClassifierConfig(pooling="concat", char_encoder="cnn", tfidf_member=False, **SMALL)
    clf = train_small(config, texts, labels).eval()
    int8 = exported(clf, tmp_path, "int8")
    assert int8.chars == clf.chars
    sample = _texts(30, seed=7)
    got, expected = int8.predict_proba(sample), clf.predict_proba(sample)
    assert np.abs(got - expected).max() < 0.05
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.95
