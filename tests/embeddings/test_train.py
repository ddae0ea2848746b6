from typing import Any

import numpy as np
import pytest

from rnnkit.embeddings.progress import EpochReport
from rnnkit.embeddings.train import (
    METHODS,
    parse_options,
    train_to_dir,
    train_vectors,
    train_vectors_with_stats,
)
from rnnkit.embeddings.vectors import Vectors
from rnnkit.errors import ConfigError


def toy_corpus(n=300, seed=0):
    """Two topics that never share a sentence: words of one topic should cluster."""
    rng = np.random.default_rng(seed)
    topics = [["cat", "dog", "pet", "fur", "paw"], ["car", "road", "wheel", "fuel", "drive"]]
    return [list(rng.choice(topics[i % 2], size=8)) for i in range(n)]


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains(method, tmp_path):
    options: dict[str, Any] = {"dim": 4, "min_count": 2, "window": 3}
    if method in ("skipgram", "cbow", "fasttext"):
        options |= {"epochs": 3, "workers": 1}
    if method == "glove":
        options |= {"epochs": 30, "batch_size": 64}
    vectors, stats = train_vectors_with_stats(toy_corpus(), method, **options)
    assert isinstance(vectors, Vectors) and vectors.dim == 4 and len(vectors) == 10
    assert stats.tokens == 2400 and stats.words_per_second > 0
    if method in ("glove", "ppmi-svd", "skipgram"):
        assert vectors.similarity("cat", "dog") > vectors.similarity("cat", "car")


def test_corpus_from_file_lowercased(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("\n".join(" ".join(s).upper() for s in toy_corpus(50)))
    vectors = train_vectors(path, "ppmi-svd", dim=3, min_count=1, lowercase=True)
    assert "cat" in vectors and "CAT" not in vectors


def test_bad_method_and_options():
    with pytest.raises(ConfigError, match="unknown method"):
        train_vectors(toy_corpus(10), "lsa")
    with pytest.raises(ConfigError, match="no option x_max"):
        train_vectors(toy_corpus(10), "skipgram", x_max=5)
    with pytest.raises(ConfigError, match="at least 1"):
        train_vectors(toy_corpus(10), "cbow", epochs=0)


def test_saved_run_loads_back(tmp_path):
    from rnnkit.embeddings.train import save_trained

    vectors, stats = train_vectors_with_stats(toy_corpus(50), "count-svd", dim=3, min_count=1)
    out = save_trained(vectors, stats, tmp_path / "run")
    for loaded in (Vectors.load(out), Vectors.load(out / "vectors.txt")):
        assert loaded.words == vectors.words
        np.testing.assert_array_equal(loaded.matrix, vectors.matrix)
    assert (out / "train.json").read_text().count("count-svd") == 1


def test_options_from_strings_are_typed():
    got = parse_options("glove", ["x_max=10", "epochs=3", "learning-rate=0.2", "dim=8"])
    assert got == {"x_max": 10.0, "epochs": 3, "learning_rate": 0.2, "dim": 8}
    assert isinstance(got["x_max"], float) and isinstance(got["epochs"], int)
    assert parse_options("skipgram", ["negative=3", "lowercase=yes"]) == {
        "negative": 3,
        "lowercase": True,
    }
    for method, item, message in [
        ("glove", "x_max", "KEY=VALUE"),
        ("glove", "negative=5", "no option negative"),
        ("skipgram", "x_max=5", "no option x_max"),
        ("glove", "epochs=2.5", "takes a int"),
        ("glove", "lowercase=maybe", "true or false"),
        ("lsa", "dim=3", "unknown method"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_options(method, [item])


@pytest.mark.parametrize("method", ["glove", "cbow"])
def test_each_epoch_is_reported(method, tmp_path):
    seen: list[EpochReport] = []
    options: dict[str, Any] = {"dim": 4, "min_count": 2, "window": 3, "epochs": 3}
    options |= {"batch_size": 64} if method == "glove" else {"workers": 1}
    vectors, stats = train_to_dir(
        toy_corpus(50), method, tmp_path / "r", progress=seen.append, **options
    )
    assert [r.epoch for r in seen] == [1, 2, 3] and all(r.epochs == 3 for r in seen)
    assert all(r.method == method and r.seconds > 0 and r.per_second > 0 for r in seen)
    if method == "glove":  # pairs of the co-occurrence matrix, with the loss
        assert all(r.unit == "pairs" and r.loss is not None for r in seen)
    else:  # corpus words, as gensim counts them
        assert all(r.unit == "words" and r.items == stats.tokens for r in seen)
    assert "/s" in seen[0].format() and Vectors.load(tmp_path / "r").words == vectors.words
