"""ULMFiT in one command (``model.pretrained``): the cached general LM, the task LM, the
classifier started from it, resume, and the errors."""

import dataclasses
import json

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.models import load
from rnnkit.models.classify import ClassifyRunConfig, pretrain, train_classifier
from rnnkit.models.lm.model import LMConfig
from rnnkit.models.lm.train import LMDataConfig, LMRunConfig, train_lm
from rnnkit.training.recipe import TrainConfig
from rnnkit.training.run import METRICS_FILE
from tests.models.classify.test_train import files, small_config  # noqa: F401 (a fixture)
from tests.resume import assert_resumes_exactly

TINY_LM = LMRunConfig(
    model=LMConfig(embedding_dim=8, hidden_size=12, num_layers=1),
    data=LMDataConfig(pipeline=("lower", "split"), batch_size=4, bptt=5),
    train=TrainConfig(
        max_epochs=1, progress=False, plots=False, device="cpu", checkpoint_every=None
    ),
)


@pytest.fixture
def text(tmp_path, files):  # noqa: F811
    """The train split's texts as an LM corpus (one text a line)."""
    lines = [row.split(",", 2)[1] for row in files[0].read_text().splitlines()[1:]]
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_general_lm_is_trained_once_and_read_back(tmp_path, text, monkeypatch):
    calls = []
    real = train_lm

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(pretrain, "train_lm", counting)
    root = tmp_path / "cache"
    first = pretrain.cached_lm(TINY_LM, text, text, {"corpus": "a"}, root, seed=0)
    again = pretrain.cached_lm(TINY_LM, text, text, {"corpus": "a"}, root, seed=0)
    assert first == again and (first / METRICS_FILE).is_file() and len(calls) == 1
    assert calls[0].name.endswith(".partial") and not calls[0].exists()  # renamed into place
    # what does not change the weights is not in the key; what names the text is
    quiet = dataclasses.replace(TINY_LM, train=dataclasses.replace(TINY_LM.train, threads=2))
    assert pretrain.cached_lm(quiet, text, text, {"corpus": "a"}, root, seed=0) == first
    other = pretrain.cached_lm(TINY_LM, text, text, {"corpus": "b"}, root, seed=0)
    assert other != first and len(calls) == 2


def classifier_config(run_dir, epochs=1):
    base = small_config()
    model = dataclasses.replace(base.model, pretrained=str(run_dir), task_lm_epochs=epochs)
    return ClassifyRunConfig(model, base.data, base.train)


def test_a_classifier_starts_from_the_task_lm(tmp_path, files, text):  # noqa: F811
    train, dev = files
    general = tmp_path / "general"
    train_lm(text, text, general, TINY_LM, seed=0)
    out = tmp_path / "run"
    result = train_classifier(train, dev, out, classifier_config(general), seed=1, test_path=dev)
    task = out / "pretrain" / "task-lm"
    assert (task / METRICS_FILE).is_file()
    assert json.loads((task / "config.json").read_text())["init_from"] == str(general)
    saved = json.loads((out / "config.json").read_text())
    assert saved["init_from"] == str(task)
    # the classifier took the LM's sizes, and its words and recurrent weights
    assert saved["model"]["hidden_size"] == 12 and saved["model"]["bidirectional"] is False
    assert result.transfer is not None
    assert result.transfer.loaded["encoder.weight_ih_l0"].startswith(str(task))
    assert result.transfer.shared_words > 10
    assert result.dev.accuracy > 0.8
    texts = ["good great love", "", "bad awful"]
    np.testing.assert_array_equal(
        load(out).predict_proba(texts), result.classifier.predict_proba(texts)
    )


def test_without_task_epochs_the_classifier_starts_from_the_general_lm(
    tmp_path,
    files,  # noqa: F811
    text,
):
    train, dev = files
    train_lm(text, text, tmp_path / "general", TINY_LM, seed=0)
    cfg = classifier_config(tmp_path / "general", epochs=0)
    result = train_classifier(train, dev, tmp_path / "run", cfg, seed=0)
    assert not (tmp_path / "run" / "pretrain").exists()
    assert result.transfer is not None
    assert result.transfer.loaded["encoder.weight_ih_l0"].startswith(str(tmp_path / "general"))


def test_killed_in_the_task_lm_it_resumes_to_the_same_weights(
    tmp_path,
    files,  # noqa: F811
    text,
    monkeypatch,
):
    train, dev = files
    train_lm(text, text, tmp_path / "general", TINY_LM, seed=0)
    cfg = classifier_config(tmp_path / "general", epochs=2)
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_classifier(train, dev, out, cfg, seed=0, resume=resume),
        kill_epoch=1,  # the task LM's first epoch
    )


def test_bad_pretraining_options_fail_before_any_training(tmp_path, files):  # noqa: F811
    train, dev = files
    with pytest.raises(ConfigError, match=r"model\.pretrained='nowhere'"):
        train_classifier(train, dev, tmp_path / "a", classifier_config("nowhere"))
    with pytest.raises(ConfigError, match="task_lm_epochs"):
        dataclasses.replace(small_config().model, task_lm_epochs=-1)
    assert not (tmp_path / "a").exists()


def test_init_from_and_foreign_text_leave_the_general_lm_out(tmp_path, files, caplog):  # noqa: F811
    """A run started ``--init-from`` another, or on a text the English vectors do not cover
    (another language), trains as it would without ``model.pretrained``: nothing is fetched."""
    train, dev = files
    train_classifier(train, dev, tmp_path / "pre", small_config(), seed=0)
    general = dataclasses.replace(classifier_config("general-lm"), train=small_config().train)
    result = train_classifier(train, dev, tmp_path / "a", general, init_from=tmp_path / "pre")
    assert result.transfer is not None and not (tmp_path / "a" / "pretrain").exists()
    assert load(tmp_path / "a").config.pretrained is None
    foreign = tmp_path / "vectors.txt"  # words of another text only
    foreign.write_text("perro 1 2 3 4 5 6 7 8\ngato 8 7 6 5 4 3 2 1\n", encoding="utf-8")
    model = dataclasses.replace(general.model, embeddings=str(foreign))
    config = dataclasses.replace(general, model=model)
    train_classifier(train, dev, tmp_path / "b", config)
    assert "not one the English vectors" in caplog.text
    assert not (tmp_path / "b" / "pretrain").exists()


def test_data_parallel_ranks_do_not_train_the_general_lm(tmp_path, text, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ConfigError, match="without --nproc"):
        pretrain.cached_lm(TINY_LM, text, text, {"corpus": "a"}, tmp_path / "cache", seed=0)
    assert not (tmp_path / "cache").exists()


def test_sizes_the_user_chose_are_kept(tmp_path, files, text):  # noqa: F811
    """``keep`` (the ``model.…`` keys of ``--set``): a bidirectional classifier from a
    left-to-right LM takes the forward direction from it; the backward one starts fresh."""
    train, dev = files
    train_lm(text, text, tmp_path / "general", TINY_LM, seed=0)
    cfg = classifier_config(tmp_path / "general", epochs=0)
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, bidirectional=True))
    result = train_classifier(train, dev, tmp_path / "run", cfg, keep={"bidirectional"})
    assert result.classifier.config.bidirectional and result.classifier.config.hidden_size == 12
    assert result.transfer is not None
    assert "encoder.weight_ih_l0" in result.transfer.loaded
    assert "encoder.weight_ih_l0_reverse" in result.transfer.new


def test_auto_pretrains_on_a_training_set_large_enough_only(
    tmp_path,
    files,  # noqa: F811
    text,
    monkeypatch,
    caplog,
):
    """``model.pretrained=auto`` (the default) starts from the general LM from
    :data:`~rnnkit.models.classify.pretrain.AUTO_MIN_TEXTS` training texts on, and below it
    trains as with no pretraining, saying why."""
    train, dev = files
    train_lm(text, text, tmp_path / "general", TINY_LM, seed=0)
    monkeypatch.setattr(pretrain, "general_lm", lambda config, seed=0: tmp_path / "general")
    texts = len(train.read_text().splitlines()) - 1  # the header
    cfg = classifier_config(pretrain.AUTO, epochs=0)
    monkeypatch.setattr(pretrain, "AUTO_MIN_TEXTS", texts + 1)
    with caplog.at_level("INFO", logger="rnnkit.models"):
        few = train_classifier(train, dev, tmp_path / "few", cfg, seed=0)
    assert few.transfer is None and f"{texts} training texts, fewer than" in caplog.text
    assert load(tmp_path / "few").config.pretrained is None
    monkeypatch.setattr(pretrain, "AUTO_MIN_TEXTS", texts)
    enough = train_classifier(train, dev, tmp_path / "enough", cfg, seed=0)
    assert enough.transfer is not None
    loaded = enough.transfer.loaded["encoder.weight_ih_l0"]
    assert loaded.startswith(str(tmp_path / "general"))
    saved = load(tmp_path / "enough").config
    assert saved.hidden_size == TINY_LM.model.hidden_size
    assert saved.pretrained == pretrain.GENERAL  # the run says what "auto" chose
