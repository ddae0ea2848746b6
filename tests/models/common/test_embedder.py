import numpy as np
import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.models.common.embedder import Embedder, pretrained_matrix, word_pieces
from rnnkit.text.vocab import Vocab


@pytest.fixture
def vocab():
    return Vocab.build([["the", "Cat", "sat", "zyzzyva"]])


def test_pretrained_rows_are_copied_and_missing_rows_drawn(vocab):
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "dog"] + [f"w{i}" for i in range(500)]
    vectors = rng.normal(3.0, 2.0, size=(len(words), 4)).astype(np.float32)
    matrix, coverage = pretrained_matrix(vocab, words, vectors, seed=1)
    assert matrix.shape == (len(vocab), 4) and matrix.dtype == torch.float32
    for token in ("the", "sat"):
        np.testing.assert_array_equal(matrix[vocab.id(token)].numpy(), vectors[words.index(token)])
    # lowercase fallback
    np.testing.assert_array_equal(matrix[vocab.id("Cat")].numpy(), vectors[1])
    assert (matrix[vocab.pad_id] == 0).all()
    assert coverage.found == 3 and coverage.total == 4 and coverage.ratio == 0.75
    # missing words: the scale of the known vectors, repeatable with the seed
    missing = matrix[vocab.id("zyzzyva")]
    assert not any(np.allclose(missing.numpy(), v) for v in vectors)
    again, _ = pretrained_matrix(vocab, words, vectors, seed=1)
    assert torch.equal(matrix, again)
    many = pretrained_matrix(Vocab([f"x{i}" for i in range(4000)]), words, vectors)[0]
    np.testing.assert_allclose(many.mean(0), vectors.mean(0), atol=0.15)
    np.testing.assert_allclose(many.std(0), vectors.std(0), rtol=0.1)


def test_pretrained_rejects_bad_shapes(vocab):
    with pytest.raises(ShapeError):
        pretrained_matrix(vocab, ["a", "b"], np.zeros((3, 4)))
    with pytest.raises(ShapeError):
        pretrained_matrix(vocab, [], np.zeros((0, 4)))


def test_embedder_initial_weight_freeze_and_padding():
    weight = torch.randn(5, 3)
    emb = Embedder(5, 3, freeze=True, weight=weight)
    assert (emb.input_size, emb.output_size) == (5, 3)
    torch.testing.assert_close(emb(torch.tensor([[1, 4]])), weight[[1, 4]].unsqueeze(0))
    assert not emb.embedding.weight.requires_grad
    trained = Embedder(5, 3)
    trained(torch.tensor([[0, 2]])).sum().backward()
    grad = trained.embedding.weight.grad
    assert grad is not None
    assert (grad[0] == 0).all()
    assert (grad[2] != 0).all()


@pytest.mark.parametrize(
    ("args", "error"),
    [((0, 3), ConfigError), ((5, 3, 0, False, 1.0), ConfigError)],
)
def test_embedder_rejects_bad_options(args, error):
    with pytest.raises(error):
        Embedder(*args)
    with pytest.raises(ShapeError):
        Embedder(5, 3, weight=torch.zeros(4, 3))


@pytest.mark.parametrize(
    ("token", "pieces"),
    [
        ("don't", ["do", "n't"]),
        ("Can't", ["ca", "n't"]),
        ("google's", ["google", "'s"]),
        ("I'm", ["i", "'m"]),
        ("#Patriots", ["patriots"]),
        ("$aapl", ["aapl"]),
        ("self-driving", ["self", "driving"]),
        ("plain", []),
        ("#", []),
    ],
)
def test_word_pieces_follow_treebank_tokenization(token, pieces):
    assert word_pieces(token) == pieces


def test_missing_words_take_the_mean_of_their_pieces():
    words = ["do", "n't", "patriots", "self"]
    vectors = np.arange(16, dtype=np.float32).reshape(4, 4)
    vocab = Vocab.build([["don't", "#patriots", "self-driving"]])
    matrix, coverage = pretrained_matrix(vocab, words, vectors)
    np.testing.assert_allclose(matrix[vocab.id("don't")].numpy(), vectors[:2].mean(0))
    np.testing.assert_array_equal(matrix[vocab.id("#patriots")].numpy(), vectors[2])
    # "driving" is missing: a word is built from its pieces only when all are known
    assert not np.allclose(matrix[vocab.id("self-driving")].numpy(), vectors[3])
    assert coverage.found == 2 and coverage.pieces == 2 and coverage.total == 3
