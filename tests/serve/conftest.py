"""Tiny trained models of every task, saved as run directories, for the server tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rnnkit.fileio import write_json
from rnnkit.models.classify.model import ClassifierConfig
from rnnkit.models.tag import TagDataConfig, TagRunConfig, train_tagger
from rnnkit.serve import ServedModel, load_models
from tests.models.classify.test_artifact import make_texts, train_small
from tests.models.lm.test_artifact import make as make_lm
from tests.models.tag.test_train import FIXTURES, MODEL, TRAIN
from tests.models.translate.test_artifact import _translator


@pytest.fixture(scope="session")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Run directories ``clf`` (attention classifier, with metrics.json), ``pos`` (tagger),
    ``lm`` (word language model) and ``mt`` (translator)."""
    tmp = tmp_path_factory.mktemp("serve")
    texts, labels = make_texts(40)
    config = ClassifierConfig(pooling="attention", embedding_dim=8, hidden_size=6)
    train_small(config, texts, labels).save(tmp / "clf")
    write_json(tmp / "clf" / "metrics.json", {"dev": {"accuracy": 0.5, "per_class": []}})
    pos = FIXTURES / "pos.conll"
    run = TagRunConfig(MODEL, TagDataConfig(batch_size=8), dataclasses.replace(TRAIN, max_epochs=2))
    train_tagger(pos, pos, tmp / "pos", run, seed=1)
    make_lm().save(tmp / "lm")
    _translator().save(tmp / "mt")
    return {name: tmp / name for name in ("clf", "pos", "lm", "mt")}


@pytest.fixture(scope="session")
def served(run_dirs: dict[str, Path]) -> dict[str, ServedModel]:
    return load_models([f"{name}={path}" for name, path in run_dirs.items()])
