"""The bag of hashed n-grams: a pure hash, padding that never counts, word order that does."""

import pytest
import torch

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn.ngrams import HashedNgrams, ngram_hashes

M = 2**31 - 1


def _reference_codes(seq, n):
    """The module docstring's formula in plain Python integers, orders side by side."""

    def mix(x):
        x ^= x >> 16
        x = (x * 0x45D9F3B) & 0xFFFFFFFF
        x ^= x >> 16
        x = (x * 0x45D9F3B) & 0xFFFFFFFF
        return x ^ (x >> 16)

    codes = []
    for k in range(1, n + 1):
        for t in range(len(seq) - k + 1):
            h = 1
            for w in seq[t : t + k]:
                h = (h * 1_000_003 + w % M + 1) % M
            codes.append(mix(h))
    return codes


def _batch(seqs, garbage=7):
    ids = torch.full((len(seqs), max(map(len, seqs))), garbage, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return ids, torch.tensor([len(s) for s in seqs])


def test_the_hash_is_the_documented_formula_and_never_changes():
    seqs = [[5, 3, 9, 2**40 + 1, 0], [2**31 - 2, 2**31 - 1, 2**31]]
    ids, lengths = _batch(seqs)
    codes, mask = ngram_hashes(ids, lengths, 3)
    for i, seq in enumerate(seqs):
        assert codes[i][mask[i]].tolist() == _reference_codes(seq, 3)
    # pinned: a change of the hash would silently change what every saved model predicts
    pinned, _ = ngram_hashes(torch.tensor([[1, 2]]), torch.tensor([2]), 2)
    assert pinned.tolist() == [[3047919967, 4097139464, 2961057340]]


def test_two_instances_agree_and_the_output_is_the_mean_of_the_rows():
    ids, lengths = _batch([[4, 8, 15, 16], [23, 42]])
    torch.manual_seed(0)
    a = HashedNgrams(2, 1000, 6)
    torch.manual_seed(0)
    b = HashedNgrams(2, 1000, 6)
    torch.testing.assert_close(a(ids, lengths), b(ids, lengths))
    torch.manual_seed(1)
    c = HashedNgrams(2, 1000, 6)
    rows, counts = c.rows(ids, lengths)
    assert torch.equal(rows, a.rows(ids, lengths)[0]) and counts.tolist() == [7, 3]
    out = c(ids, lengths)
    torch.testing.assert_close(out[0], c.table.weight[rows[:7]].mean(0))
    torch.testing.assert_close(out[1], c.table.weight[rows[7:]].mean(0))


def test_padding_never_contributes():
    torch.manual_seed(0)
    bag = HashedNgrams(3, 500, 5)
    seqs = [[3, 4, 5, 6, 7], [8], [9, 10, 11], [12, 13]]
    for garbage in (0, 99):
        ids, lengths = _batch(seqs, garbage)
        out = bag(ids, lengths)
        for i, seq in enumerate(seqs):
            one, n = _batch([seq])
            torch.testing.assert_close(out[i], bag(one, n)[0])


def test_word_order_counts_with_bigrams_only():
    ids = torch.tensor([[3, 4], [4, 3]])
    lengths = torch.tensor([2, 2])
    torch.manual_seed(0)
    bigrams, unigrams = HashedNgrams(2, 2**16, 4), HashedNgrams(1, 2**16, 4)
    two = bigrams(ids, lengths)
    assert not torch.allclose(two[0], two[1])
    one = unigrams(ids, lengths)
    torch.testing.assert_close(one[0], one[1])


def test_lengths_zero_and_one():
    torch.manual_seed(0)
    bag = HashedNgrams(2, 100, 3)
    ids, lengths = torch.tensor([[5, 6], [7, 1]]), torch.tensor([0, 1])
    out = bag(ids, lengths)
    assert torch.equal(out[0], torch.zeros(3))
    rows, counts = bag.rows(ids, lengths)
    assert counts.tolist() == [0, 1]  # one unigram, no bigram
    torch.testing.assert_close(out[1], bag.table.weight[rows[0]])
    empty = bag(torch.zeros(2, 0, dtype=torch.long), torch.tensor([0, 0]))
    assert torch.equal(empty, torch.zeros(2, 3))


def test_gradient_reaches_only_the_rows_used():
    torch.manual_seed(0)
    bag = HashedNgrams(2, 64, 3)
    ids, lengths = _batch([[1, 2, 3], [4]], garbage=50)
    bag(ids, lengths).sum().backward()
    grad = bag.table.weight.grad
    assert grad is not None
    touched = set(grad.abs().sum(1).nonzero().flatten().tolist())
    assert touched == set(bag.rows(ids, lengths)[0].tolist())


def test_dropout_acts_only_in_training():
    torch.manual_seed(0)
    bag = HashedNgrams(2, 100, 50, dropout=0.5)
    ids, lengths = _batch([[1, 2, 3]])
    assert (bag(ids, lengths) == 0).any()
    bag.eval()
    torch.testing.assert_close(bag(ids, lengths), bag(ids, lengths))
    assert not (bag(ids, lengths) == 0).any()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n": 0}, "order"),
        ({"buckets": 0}, "buckets"),
        ({"dim": 0}, "dim"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_settings_are_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        HashedNgrams(**options)


def test_bad_shapes_are_refused():
    bag = HashedNgrams(2, 10, 2)
    with pytest.raises(ShapeError):
        bag(torch.tensor([1, 2]), torch.tensor([2]))
    with pytest.raises(ShapeError):
        bag(torch.tensor([[1, 2]]), torch.tensor([2, 1]))
