import numpy as np
import pytest

from rnnkit.embeddings.cooccur import cooccurrence
from rnnkit.embeddings.corpus import encode
from rnnkit.errors import ConfigError


def brute_force(sentences, index, window, harmonic):
    counts = np.zeros((len(index), len(index)))
    for s in sentences:
        ids = [index[t] for t in s if t in index]
        for i, a in enumerate(ids):
            for d in range(1, window + 1):
                if i + d < len(ids):
                    w = 1 / d if harmonic else 1.0
                    counts[a, ids[i + d]] += w
                    counts[ids[i + d], a] += w
    return counts


@pytest.mark.parametrize("weighting", ["harmonic", "flat"])
@pytest.mark.parametrize("window", [1, 3, 10])
def test_matches_brute_force(weighting, window):
    rng = np.random.default_rng(window)
    vocab = [f"w{i}" for i in range(12)]
    sentences = [list(rng.choice(vocab, size=rng.integers(1, 15))) for _ in range(30)]
    enc = encode(sentences, min_count=3)
    index = {w: i for i, w in enumerate(enc.words)}
    got = cooccurrence(enc, window, weighting).toarray()
    want = brute_force(sentences, index, window, weighting == "harmonic")
    np.testing.assert_allclose(got, want)
    np.testing.assert_array_equal(got, got.T)


def test_sentences_do_not_touch_and_memory_is_sparse():
    enc = encode([["a", "b"], ["c", "d"]], min_count=1)
    counts = cooccurrence(enc, 5)
    assert counts.nnz == 4
    assert counts[enc.words.index("b"), enc.words.index("c")] == 0


def test_bad_options():
    enc = encode([["a", "b"]], min_count=1)
    with pytest.raises(ConfigError, match="window"):
        cooccurrence(enc, 0)
    with pytest.raises(ConfigError, match="weighting"):
        cooccurrence(enc, 2, "cubic")  # type: ignore[arg-type]
