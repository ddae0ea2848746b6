import numpy as np
import pytest

from rnnkit.embeddings.corpus import encode, read_corpus
from rnnkit.errors import DataFormatError, RnnkitError


def test_read_file_and_lowercase(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("The cat sat\n\n  the DOG  \n")
    assert read_corpus(path) == [["The", "cat", "sat"], ["the", "DOG"]]
    assert read_corpus(str(path), lowercase=True) == [["the", "cat", "sat"], ["the", "dog"]]
    assert read_corpus([["A"], []], lowercase=True) == [["a"]]


def test_bad_corpora(tmp_path):
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(DataFormatError, match="UTF-8"):
        read_corpus(bad)
    with pytest.raises(DataFormatError, match="cannot read"):
        read_corpus(tmp_path / "missing.txt")
    with pytest.raises(RnnkitError, match="no tokens"):
        read_corpus([[], []])


def test_encode_orders_by_frequency_and_drops_rare():
    sentences = [["b", "a", "c"], ["a", "b", "a"], ["d"]]
    enc = encode(sentences, min_count=2)
    assert enc.words == ["a", "b"]
    assert enc.counts.tolist() == [3, 2]
    assert enc.ids.tolist() == [1, 0, 0, 1, 0]
    assert enc.sentence.tolist() == [0, 0, 1, 1, 1]
    assert enc.tokens == 7
    assert encode(sentences, 1, max_vocab=3).words == ["a", "b", "c"]
    with pytest.raises(RnnkitError, match="min_count"):
        encode(sentences, min_count=9)
    assert enc.ids.dtype == np.int64
