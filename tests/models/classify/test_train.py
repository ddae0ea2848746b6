import csv
import dataclasses
import json

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.models import load
from rnnkit.models.classify import (
    ClassifyDataConfig,
    ClassifyRunConfig,
    evaluate_classifier,
    train_classifier,
)
from rnnkit.models.classify.ensemble import Ensemble
from rnnkit.models.classify.model import Classifier, ClassifierConfig
from rnnkit.training.optim import OptimConfig
from rnnkit.training.recipe import TrainConfig
from tests.models.classify.test_artifact import make_texts
from tests.resume import assert_resumes_exactly


def write_csv(path, texts, labels):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "label"])
        writer.writerows([i, t, lab] for i, (t, lab) in enumerate(zip(texts, labels, strict=True)))
    return path


def small_config(**model):
    return ClassifyRunConfig(
        model=ClassifierConfig(embedding_dim=8, hidden_size=8, **model),
        data=ClassifyDataConfig(pipeline=("lower", "split"), batch_size=16),
        train=TrainConfig(
            max_epochs=4,
            optim=OptimConfig(lr=0.02),
            early_stopping="macro_f1",
            progress=False,
            plots=False,
            device="cpu",
        ),
    )


@pytest.fixture
def files(tmp_path):
    train = write_csv(tmp_path / "train.csv", *make_texts(160, seed=1))
    dev = write_csv(tmp_path / "dev.csv", *make_texts(40, seed=2))
    return train, dev


def test_train_evaluate_predict_end_to_end(tmp_path, files):
    train, dev = files
    out = tmp_path / "run"
    result = train_classifier(train, dev, out, small_config(), seed=3, test_path=dev)
    assert result.dev.accuracy > 0.8  # the synthetic task is separable by word identity
    assert {"config.json", "model.safetensors", "metrics.json", "train_log.jsonl"} <= {
        p.name for p in out.iterdir()
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dev"]["macro_f1"] == pytest.approx(result.dev.macro_f1)
    assert metrics["test"]["accuracy"] == pytest.approx(result.dev.accuracy)
    again = evaluate_classifier(out, dev)
    assert again == result.dev
    loaded = load(out)
    texts = ["good great love", "", "bad awful"]
    np.testing.assert_array_equal(
        loaded.predict_proba(texts), result.classifier.predict_proba(texts)
    )
    doc = json.loads((out / "config.json").read_text())
    assert doc["train"]["seed"] == 3 and doc["data"]["pipeline"] == ["lower", "split"]


def test_pretrained_vectors_initialise_the_embeddings(tmp_path, files):
    train, dev = files
    words = ["good", "bad", "the"]
    matrix = np.arange(24, dtype=np.float32).reshape(3, 8)
    config = small_config(freeze_embeddings=True)
    config = ClassifyRunConfig(
        config.model,
        config.data,
        TrainConfig(max_steps=2, progress=False, plots=False, device="cpu"),
    )
    result = train_classifier(train, dev, tmp_path / "run", config, vectors=(words, matrix))
    clf = result.classifier
    assert isinstance(clf.model, Classifier)
    table = clf.model.embedder.embedding.weight.detach().cpu().numpy()
    for word, row in zip(words, matrix, strict=True):
        np.testing.assert_array_equal(table[clf.vocab.id(word)], row)


def test_existing_runs_are_not_overwritten_and_resume_checks_the_config(tmp_path, files):
    train, dev = files
    out = tmp_path / "run"
    quick = ClassifyRunConfig(
        small_config().model,
        small_config().data,
        TrainConfig(max_epochs=1, progress=False, plots=False, device="cpu"),
    )
    with pytest.raises(ConfigError, match="no checkpoint to resume"):
        train_classifier(train, dev, out, quick, resume=True)
    first = train_classifier(train, dev, out, quick)
    before = (out / "config.json").read_text()
    with pytest.raises(ConfigError, match="already holds a training run"):
        train_classifier(train, dev, out, small_config())
    assert (out / "config.json").read_text() == before
    with pytest.raises(ConfigError, match="its model, train differ"):
        train_classifier(train, dev, out, small_config(pooling="max"), resume=True)
    with pytest.raises(ConfigError, match="train differ"):
        train_classifier(train, dev, out, quick, seed=5, resume=True)
    resumed = train_classifier(train, dev, out, quick, resume=True)
    texts = ["good", "bad the"]
    np.testing.assert_array_equal(
        resumed.classifier.predict_proba(texts), first.classifier.predict_proba(texts)
    )


def test_labels_unseen_in_training_get_a_clear_message(tmp_path, files):
    train, _ = files
    texts, labels = make_texts(10, seed=4)
    bad_dev = write_csv(tmp_path / "bad.csv", texts, ["sarcastic", *labels[1:]])
    with pytest.raises(ConfigError, match=r"bad\.csv: label\(s\) 'sarcastic' never seen"):
        train_classifier(train, bad_dev, tmp_path / "run", small_config())
    one_label = write_csv(tmp_path / "one.csv", ["a", "b"], ["pos", "pos"])
    with pytest.raises(ConfigError, match="at least 2 labels"):
        train_classifier(one_label, bad_dev, tmp_path / "run2", small_config())


def test_vectors_named_in_the_config_are_read_from_a_file(tmp_path, files):
    pytest.importorskip("rnnkit.embeddings.vectors")
    pytest.importorskip("gensim")
    train, dev = files
    glove = tmp_path / "vectors.txt"
    words = {w for row in csv.DictReader(train.open()) for w in row["text"].lower().split()}
    rows = [f"{w} {' '.join(['0.5'] * 8)}" for w in sorted(words - {"good", "hate"})]
    rows += ["good 1 2 3 4 5 6 7 8", "hate 8 7 6 5 4 3 2 1"]
    glove.write_text("\n".join(rows) + "\n", encoding="utf-8")
    base = small_config(embeddings=str(glove), freeze_embeddings=True)
    config = ClassifyRunConfig(
        base.model, base.data, TrainConfig(max_steps=1, progress=False, plots=False, device="cpu")
    )
    clf = train_classifier(train, dev, tmp_path / "run", config).classifier
    assert isinstance(clf.model, Classifier)
    table = clf.model.embedder.embedding.weight.detach().cpu().numpy()
    np.testing.assert_array_equal(table[clf.vocab.id("hate")], np.arange(8, 0, -1))
    assert load(tmp_path / "run").config.embeddings == str(glove)


def test_vectors_that_miss_most_words_are_not_used(tmp_path, files, caplog):
    train, dev = files
    glove = tmp_path / "vectors.txt"
    glove.write_text("good 1 2 3 4 5 6 7 8\nhate 8 7 6 5 4 3 2 1\n", encoding="utf-8")
    base = small_config(embeddings=str(glove))
    config = ClassifyRunConfig(
        base.model, base.data, TrainConfig(max_steps=1, progress=False, plots=False, device="cpu")
    )
    clf = train_classifier(train, dev, tmp_path / "run", config).classifier
    assert "training the embeddings from scratch" in caplog.text
    assert clf.config.embeddings is None and load(tmp_path / "run").config.embeddings is None


def test_embedding_dim_follows_the_vectors_when_unset(tmp_path, files):
    train, dev = files
    words, matrix = ["good", "hate"], np.ones((2, 5), dtype=np.float32)
    base = small_config()
    config = dataclasses.replace(base, model=dataclasses.replace(base.model, embedding_dim=None))
    result = train_classifier(train, dev, tmp_path / "run", config, vectors=(words, matrix))
    assert result.classifier.config.embedding_dim == 5
    assert load(tmp_path / "run").config.embedding_dim == 5


def test_a_character_model_with_members_trains_saves_and_loads(tmp_path, files):
    """The char encoder with a second seed and the TF-IDF member of word and character n-grams:
    every member reads the same characters, and the saved run predicts (and explains) as the
    trained one."""
    train, dev = files
    base = small_config(char_encoder="cnn", char_size=6, tfidf_member=True, tfidf_chars=True)
    cfg = dataclasses.replace(base, train=dataclasses.replace(base.train, ensemble=2))
    result = train_classifier(train, dev, tmp_path / "run", cfg, seed=1, test_path=dev)
    assert result.test is not None and result.test.accuracy > 0.8
    loaded = load(tmp_path / "run")
    assert loaded.chars is not None and loaded.chars == result.classifier.chars
    assert "#" not in loaded.chars  # a character never seen in training reads as <unk>
    texts = ["good great loooove", "", "bad awfulll #hate", "GOOD"]
    np.testing.assert_array_equal(
        loaded.predict_proba(texts), result.classifier.predict_proba(texts)
    )
    one, two = loaded.predict(texts), result.classifier.predict(texts)
    assert [p.attention for p in one] == [p.attention for p in two]
    assert len(one[2].attention) == 3
    assert loaded.config.tfidf_chars
    assert isinstance(loaded.model, Ensemble) and loaded.model.wide is not None
    assert float(loaded.model.wide.weight[loaded.model.wide.buckets :].abs().sum()) > 0
    member = load(tmp_path / "run" / "members" / "1")
    assert member.config.char_encoder == "cnn" and member.chars == loaded.chars
    assert not member.config.tfidf_chars


def test_a_tfidf_member_of_characters_needs_a_character_encoder(tmp_path, files):
    """Without a character encoder the batches carry no characters: the member stays with
    words, and the saved config says so."""
    train, dev = files
    cfg = small_config(tfidf_member=True, tfidf_chars=True)
    result = train_classifier(train, dev, tmp_path / "run", cfg, seed=0)
    assert not result.classifier.config.tfidf_chars
    assert not load(tmp_path / "run").config.tfidf_chars


def test_a_character_model_killed_mid_run_resumes_to_the_same_weights(tmp_path, files, monkeypatch):
    train, dev = files
    cfg = small_config(char_encoder="lstm", char_size=6, pooling="concat")
    assert_resumes_exactly(
        tmp_path,
        monkeypatch,
        lambda out, resume: train_classifier(train, dev, out, cfg, seed=0, resume=resume),
        kill_epoch=2,
    )


def test_a_character_model_starts_from_another_run(tmp_path, files):
    """``--init-from`` a run without characters: the words and the encoder are carried over,
    the character encoder starts fresh (tests/models/common/test_transfer.py)."""
    train, dev = files
    train_classifier(train, dev, tmp_path / "pre", small_config(), seed=0)
    cfg = small_config(char_encoder="cnn", char_size=6)
    result = train_classifier(train, dev, tmp_path / "run", cfg, init_from=tmp_path / "pre")
    assert result.transfer is not None
    assert result.transfer.loaded["encoder.weight_ih_l0"].endswith("(input columns 1-8)")
    assert any(n.startswith("chars.") for n in result.transfer.new)
