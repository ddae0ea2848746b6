import json
import random
from typing import Any

import numpy as np
import pytest
import torch

from rnnkit.data.batching import PaddedBatch, encode
from rnnkit.data.chars import char_vocab
from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.models import load
from rnnkit.models.classify.artifact import TextClassifier, clip
from rnnkit.models.classify.hierarchical import boundary_ids
from rnnkit.models.classify.model import CharBatch, Classifier, ClassifierConfig, build_classifier
from rnnkit.text.pipeline import Pipeline
from rnnkit.text.vocab import Vocab
from rnnkit.training.recipe import TrainConfig, build_trainer

WORDS = {"pos": ["good", "great", "love"], "neg": ["bad", "awful", "hate"], "neu": ["the", "a"]}


def make_texts(n, seed=0):
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        label = rng.choice(sorted(WORDS))
        words = [rng.choice(WORDS[label]) for _ in range(rng.randrange(1, 6))]
        words += [rng.choice(WORDS["neu"]) for _ in range(rng.randrange(0, 4))]
        rng.shuffle(words)
        if rng.random() < 0.5:  # some texts are several sentences (hierarchical models)
            words.insert(rng.randrange(len(words) + 1), rng.choice([".", "!", "?"]))
        texts.append(" ".join(w.upper() if rng.random() < 0.2 else w for w in words))
        labels.append(label)
    return texts, labels


def train_small(config, texts, labels, steps=6, truncate="head"):
    pipeline = Pipeline(["lower", "split"])
    tokens = pipeline.batch(texts)
    vocab = Vocab.build(tokens)
    chars = char_vocab(tokens) if config.char_encoder != "none" else None
    names = sorted(set(labels))
    num_chars = len(chars) if chars is not None else 0
    model = build_classifier(
        config, len(vocab), len(names), boundaries=boundary_ids(vocab), num_chars=num_chars
    )
    clf = TextClassifier(model, config, vocab, names, pipeline, 50, truncate, chars)
    batches = clf.batches(texts, labels, batch_size=8)
    train = TrainConfig(max_epochs=10, max_steps=steps, progress=False, plots=False, device="cpu")
    build_trainer(model, train, None).fit(batches)
    return clf


SMALL: dict[str, Any] = {"embedding_dim": 8, "hidden_size": 6}
CONTRACT_CONFIGS = [
    ClassifierConfig(pooling="last", bidirectional=True, **SMALL),
    ClassifierConfig(pooling="last", bidirectional=False, mode="gru", **SMALL),
    ClassifierConfig(pooling="mean", num_layers=2, dropout=0.1, **SMALL),
    ClassifierConfig(pooling="max", mode="elman", mlp_hidden=5, **SMALL),
    ClassifierConfig(pooling="attention", class_weights="balanced", **SMALL),
    ClassifierConfig(pooling="attention", attention_size=4, **SMALL),
    ClassifierConfig(pooling="attention", skip_connections=True, num_layers=2, **SMALL),
    ClassifierConfig(pooling="attention", hierarchical=True, **SMALL),
    ClassifierConfig(pooling="max", hierarchical=True, bidirectional=False, **SMALL),
    ClassifierConfig(pooling="attention", ngrams=2, ngram_buckets=64, **SMALL),
    ClassifierConfig(pooling="max", hierarchical=True, ngrams=3, ngram_buckets=64, **SMALL),
    ClassifierConfig(pooling="concat", **SMALL),
    ClassifierConfig(pooling="concat", bidirectional=False, mode="gru", **SMALL),
    ClassifierConfig(pooling="attention", char_encoder="cnn", char_size=6, **SMALL),
    ClassifierConfig(pooling="concat", char_encoder="lstm", char_size=6, ngrams=2, **SMALL),
    ClassifierConfig(pooling="attention", hierarchical=True, char_encoder="cnn", **SMALL),
]


@pytest.mark.parametrize("config", CONTRACT_CONFIGS, ids=lambda c: c.pooling)
def test_train_save_load_gives_identical_probabilities(tmp_path, config):
    texts, labels = make_texts(40)
    clf = train_small(config, texts, labels)
    probe = [*texts[:10], "", "never seen words", "x " * 5000]
    before = clf.predict_proba(probe)
    clf.save(tmp_path / "run")
    loaded = load(tmp_path / "run")
    assert isinstance(loaded, TextClassifier)
    assert loaded.config == config and loaded.vocab == clf.vocab and loaded.labels == clf.labels
    assert loaded.chars == clf.chars and (loaded.chars is None) == (config.char_encoder == "none")
    assert loaded.pipeline == clf.pipeline and loaded.max_length == 50
    np.testing.assert_array_equal(loaded.predict_proba(probe), before)
    doc = json.loads((tmp_path / "run" / "config.json").read_text())
    assert doc["task"] == "classify" and doc["format_version"] == 1 and "rnnkit_version" in doc


def test_clip_keeps_the_head_or_the_head_and_the_tail():
    tokens = [str(i) for i in range(10)]
    assert clip(tokens, None) == tokens and clip(tokens, 10, "head+tail") == tokens
    assert clip(tokens, 4) == ["0", "1", "2", "3"]
    assert clip(tokens, 4, "head+tail") == ["0", "7", "8", "9"]
    assert clip(tokens, 8, "head+tail") == ["0", "1", "4", "5", "6", "7", "8", "9"]


def test_head_and_tail_truncation_survives_save_and_load(tmp_path):
    texts, labels = make_texts(40)
    clf = train_small(ClassifierConfig(**SMALL), texts, labels, truncate="head+tail")
    long_text = " ".join(texts[:30])
    assert clf.tokenize([long_text])[0][-5:] == Pipeline(["lower", "split"])(long_text)[-5:]
    clf.save(tmp_path / "run")
    loaded = load(tmp_path / "run")
    assert loaded.truncate == "head+tail"
    np.testing.assert_array_equal(loaded.predict_proba([long_text]), clf.predict_proba([long_text]))
    with pytest.raises(ConfigError, match="truncate"):
        TextClassifier(clf.model, clf.config, clf.vocab, clf.labels, clf.pipeline, 5, "tail")


def test_predictions_cover_odd_inputs_in_input_order():
    texts, labels = make_texts(30)
    clf = train_small(CONTRACT_CONFIGS[4], texts, labels, steps=2)
    probe = ["", "GOOD good zzz", "word " * 20000, *texts[:5]]
    preds = clf.predict(probe, batch_size=3)
    probs = clf.predict_proba(probe, batch_size=64)
    assert len(preds) == len(probe)
    for pred, row, text in zip(preds, probs, probe, strict=True):
        assert pred.label == clf.labels[int(row.argmax())]
        assert list(pred.probabilities.values()) == pytest.approx(row.tolist(), abs=1e-6)
        assert pred.tokens == clf.tokenize([text])[0]
        assert len(pred.attention) == len(pred.tokens)
        if pred.tokens:
            assert sum(pred.attention) == pytest.approx(1.0, abs=1e-5)
    assert len(preds[2].tokens) == 50
    assert preds[0].to_json().keys() == {"label", "probabilities"}
    explained = preds[1].to_json(explain=True)
    assert explained["tokens"] == ["good", "good", "zzz"] and len(explained["attention"]) == 3


def test_unseen_label_gets_a_clear_message():
    texts, labels = make_texts(20)
    clf = train_small(CONTRACT_CONFIGS[0], texts, labels, steps=1)
    with pytest.raises(ConfigError, match="'sarcastic' never seen in training"):
        clf.batches(["good"], ["sarcastic"])


def test_encoding_matches_the_vocabulary():
    texts, labels = make_texts(20)
    clf = train_small(CONTRACT_CONFIGS[0], texts, labels, steps=1)
    (batch,) = clf.batches(["GOOD zzz"], batch_size=4)
    assert batch.ids[0].tolist() == encode([["good", "zzz"]], clf.vocab)[0]


def test_load_refuses_broken_run_directories(tmp_path):
    texts, labels = make_texts(20)
    clf = train_small(CONTRACT_CONFIGS[0], texts, labels, steps=1)
    run = tmp_path / "run"
    clf.save(run)
    with pytest.raises(RnnkitError, match="not a run directory"):
        load(tmp_path / "nope")
    config = run / "config.json"
    doc = json.loads(config.read_text())
    changes: list[tuple[dict[str, Any], str]] = [
        ({"format_version": 99}, "format_version 99"),
        ({"task": "parse"}, "no loader for task 'parse'"),
        ({"labels": "pos"}, "labels"),
        ({"model": {**doc["model"], "pooling": "sum"}}, "pooling"),
        ({"model": {**doc["model"], "colour": 1}}, "unknown keys"),
    ]
    for change, message in changes:
        config.write_text(json.dumps({**doc, **change}))
        with pytest.raises(RnnkitError, match=message):
            load(run)
    config.write_text(json.dumps(doc))
    (run / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(DataFormatError):
        load(run)


def test_predict_buckets_by_length_and_answers_in_input_order() -> None:
    texts, labels = make_texts(60, seed=5)
    clf = train_small(ClassifierConfig(pooling="attention", **SMALL), texts, labels)
    random.Random(1).shuffle(texts)
    assert len({len(t.split()) for t in texts}) > 5  # lengths vary, in shuffled order
    together = clf.predict(texts, batch_size=7)
    alone = [clf.predict([t])[0] for t in texts]
    for a, b in zip(together, alone, strict=True):
        assert a.label == b.label and a.tokens == b.tokens
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-5)
        assert a.attention == pytest.approx(b.attention, abs=1e-5)
    probs = clf.predict_proba(texts, batch_size=7)
    assert probs.shape == (60, len(clf.labels))
    assert np.allclose(probs, [list(p.probabilities.values()) for p in together], atol=1e-6)


def test_words_out_of_the_vocabulary_get_their_own_character_vectors() -> None:
    texts, labels = make_texts(40)
    clf = train_small(ClassifierConfig(char_encoder="cnn", **SMALL), texts, labels)
    assert isinstance(clf.model, Classifier) and clf.chars is not None
    oov = ["goooood", "baaad", "#awful", "zzz"]
    assert all(clf.vocab.id(w) == clf.vocab.unk_id for w in oov)
    (batch,) = clf.batches([" ".join(oov), "good " + oov[0]], batch_size=2, bucket=0)
    assert isinstance(batch, CharBatch) and batch.char_index is not None
    assert (batch.ids[0] == clf.vocab.unk_id).all()  # one word id for all four ...
    clf.model.eval()
    vectors = clf.model.embed(batch)[0].detach()  # ... four different inputs to the RNN
    assert vectors.shape == (4, 8 + 50)
    torch.testing.assert_close(vectors[:, :8], vectors[:1, :8].expand(4, 8))
    assert torch.cdist(vectors[:, 8:], vectors[:, 8:]).triu(1)[0, 1:].min() > 1e-4
    assert batch.char_index[1, 1] == batch.char_index[0, 0]  # one row per distinct word
    probs = clf.predict_proba(oov)
    assert not np.allclose(probs[0], probs[1])  # the same <unk> id, not the same prediction


def test_explain_with_characters_gives_a_weight_per_token() -> None:
    texts, labels = make_texts(40)
    clf = train_small(ClassifierConfig(char_encoder="lstm", char_size=6, **SMALL), texts, labels)
    (pred,) = clf.predict(["GOOD gooood #love"])
    assert pred.tokens == ["good", "gooood", "#love"] and len(pred.attention) == 3
    assert sum(pred.attention) == pytest.approx(1.0, abs=1e-5)
    concat = train_small(ClassifierConfig(pooling="concat", **SMALL), texts, labels, steps=1)
    assert concat.predict(["good"])[0].attention is None


def test_a_character_model_needs_its_character_vocabulary() -> None:
    texts, labels = make_texts(20)
    clf = train_small(ClassifierConfig(char_encoder="cnn", **SMALL), texts, labels, steps=1)
    with pytest.raises(ConfigError, match="char_encoder=cnn needs a character vocabulary"):
        TextClassifier(clf.model, clf.config, clf.vocab, clf.labels, clf.pipeline)
    plain = ClassifierConfig(**SMALL)
    with pytest.raises(ConfigError, match="takes no characters"):
        TextClassifier(clf.model, plain, clf.vocab, clf.labels, clf.pipeline, chars=clf.chars)
    with pytest.raises(ConfigError, match="needs a character vocabulary"):
        build_classifier(clf.config, len(clf.vocab), 3)
    assert isinstance(clf.model, Classifier)
    (batch,) = clf.batches(["good"])
    with pytest.raises(ConfigError, match="give it CharBatch"):
        clf.model(PaddedBatch(batch.ids, batch.lengths))
