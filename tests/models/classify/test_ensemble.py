"""The ensemble: the mean of its members' probabilities, trained, saved, loaded and resumed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from rnnkit.data.batching import make_batches
from rnnkit.errors import ConfigError
from rnnkit.models import load
from rnnkit.models.classify import train_classifier
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.model import Classifier, ClassifierConfig, build_classifier
from rnnkit.models.tag import train_tagger
from tests.models.classify.test_artifact import make_texts
from tests.models.classify.test_train import small_config, write_csv
from tests.resume import assert_resumes_exactly
from tests.training.test_run import POS, tag_config


def test_the_ensemble_averages_probabilities_and_attention():
    torch.manual_seed(0)
    config = ClassifierConfig(embedding_dim=6, hidden_size=5, pooling="attention")
    members = [build_classifier(config, 20, 3) for _ in range(3)]
    batch = make_batches([[2, 3, 4], [5, 6]], [0, 2], batch_size=2, bucket=0)[0]
    ensemble = Ensemble(members).eval()
    out = ensemble(batch)
    each = [m.eval()(batch) for m in members]
    mean = torch.stack([o.probabilities for o in each]).mean(0)
    torch.testing.assert_close(out.probabilities, mean)
    assert out.attention is not None and out.loss is not None
    torch.testing.assert_close(out.attention, torch.stack([o.attention for o in each]).mean(0))
    with pytest.raises(ConfigError, match="at least 2"):
        Ensemble(members[:1])


def ensemble_config(k: int = 2):
    base = small_config()
    return dataclasses.replace(base, train=dataclasses.replace(base.train, ensemble=k))


def test_an_ensemble_run_trains_saves_and_loads(tmp_path):
    train = write_csv(tmp_path / "train.csv", *make_texts(48, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(16, seed=2))
    result = train_classifier(train, dev, tmp_path / "run", ensemble_config(), seed=4)
    assert (tmp_path / "run" / "members" / "1" / "metrics.json").is_file()
    texts = make_texts(8, seed=3)[0]
    loaded = load(tmp_path / "run")
    assert isinstance(loaded.model, Ensemble) and len(loaded.model.members) == 2
    np.testing.assert_array_equal(
        loaded.predict_proba(texts), result.classifier.predict_proba(texts)
    )
    first = train_classifier(train, dev, tmp_path / "single", small_config(), seed=4)
    member = load(tmp_path / "run" / "members" / "0")
    np.testing.assert_array_equal(  # member 0 is the single model of the same seed
        member.predict_proba(texts), first.classifier.predict_proba(texts)
    )


def test_a_tfidf_member_trains_saves_and_loads(tmp_path):
    train = write_csv(tmp_path / "train.csv", *make_texts(48, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(16, seed=2))
    base = small_config(tfidf_member=True)
    result = train_classifier(train, dev, tmp_path / "run", base, seed=4, test_path=dev)
    assert result.test is not None and result.test.accuracy > 0.8
    loaded = load(tmp_path / "run")
    assert isinstance(loaded.model, Ensemble) and loaded.model.wide is not None
    assert float(loaded.model.wide.weight.abs().sum()) > 0  # the fitted regression came back
    member = load(tmp_path / "run" / "members" / "0")  # the RNN alone, a run of its own
    assert not member.config.tfidf_member and isinstance(member.model, Classifier)
    texts = [*make_texts(8, seed=3)[0], "", "never seen words"]
    np.testing.assert_array_equal(
        loaded.predict_proba(texts), result.classifier.predict_proba(texts)
    )


def test_an_ensemble_killed_in_its_second_member_resumes_to_the_same_weights(tmp_path, monkeypatch):
    train = write_csv(tmp_path / "train.csv", *make_texts(48, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(16, seed=2))
    cfg = ensemble_config()
    assert_resumes_exactly(  # 4 epochs a member: killed after the second member's first
        tmp_path,
        monkeypatch,
        lambda out, resume: train_classifier(train, dev, out, cfg, seed=0, resume=resume),
        kill_epoch=5,
    )


def test_other_tasks_refuse_an_ensemble(tmp_path):
    cfg = tag_config(epochs=1)
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, ensemble=2))
    with pytest.raises(ConfigError, match="classifier only"):
        train_tagger(POS, POS, tmp_path / "run", cfg)
