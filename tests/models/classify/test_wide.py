"""The bag-of-n-grams member: scikit-learn's TF-IDF features and logistic regression, in torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from rnnkit.data.batching import encode, make_batches, pad_batch
from rnnkit.errors import ConfigError
from rnnkit.models.classify.model import CharBatch
from rnnkit.models.classify.wide import TfidfLogReg, fit_tfidf_logreg
from rnnkit.nn.char import unique_words
from rnnkit.text.vocab import Vocab

DOCS = [[2, 3, 4, 3], [5, 6], [2, 2, 2], [7], [3, 4, 5, 6, 7]]


def test_features_are_sklearns_sublinear_tfidf():
    member = TfidfLogReg(num_labels=2, buckets=2**20)  # no collisions among these n-grams
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), analyzer=lambda d: _grams(d), lowercase=False
    )
    expected = vectorizer.fit_transform(DOCS)
    batch = make_batches(DOCS, [0, 1, 0, 1, 0], batch_size=8, bucket=0)[0]
    _, cols, _ = member.counts(batch)
    df = torch.zeros(member.buckets, dtype=torch.float64)
    df.index_add_(0, cols, torch.ones_like(cols, dtype=torch.float64))
    member.idf.copy_(torch.log((1 + len(DOCS)) / (1 + df)) + 1)
    rows, _, values = member.features(batch)
    assert batch.index is not None
    order = batch.index.tolist()
    for r in range(len(DOCS)):
        ours = sorted(values[rows == r].tolist())
        theirs = sorted(expected[order[r]].data.tolist())
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def _grams(doc: list[int]) -> list[str]:
    words = [str(w) for w in doc]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


@pytest.mark.parametrize("labels", [[0, 1, 0, 1, 0], [0, 1, 2, 1, 2]])
def test_the_fitted_member_predicts_as_sklearn_does(labels):
    batches = make_batches(DOCS, labels, batch_size=2, bucket=0)
    member = fit_tfidf_logreg(TfidfLogReg(max(labels) + 1), batches, batches)
    x = np.zeros((len(DOCS), member.buckets))
    index = []
    for batch in batches:
        assert batch.index is not None
        index.append(batch.index)
        r, cols, v = member.features(batch)
        for i, j, value in zip(r.tolist(), cols.tolist(), v.tolist(), strict=True):
            x[batch.index[i], j] = value
    used = np.flatnonzero(x.any(0))
    probs = torch.cat([member(b) for b in batches]).numpy()
    order = torch.cat(index).numpy()
    assert probs.shape == (5, max(labels) + 1)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    for c in (0.3, 1.0, 3.0, 10.0, 30.0):
        reference = LogisticRegression(C=c, max_iter=1000, random_state=0)
        reference.fit(x[:, used], labels)
        if np.allclose(reference.predict_proba(x[order][:, used]), probs, atol=1e-4):
            return
    raise AssertionError("no C of the grid gives the member's probabilities")


# words of 4 letters or more: scikit-learn counts a shorter word padded as one n-gram of
# each order above its length, where the member counts only the n-grams that fit
TEXTS = [
    ["good", "film", "good", "fiiiilm"],
    ["baaad", "acting"],
    ["good", "acting", "truly"],
    ["unseenword"],
    ["film", "truly", "baaad", "film", "good"],
]


def _char_batch(texts: list[list[str]]) -> CharBatch:
    vocab = Vocab.build(texts[:3], min_freq=1)  # the last two texts hold unknown words
    letters = {c: i + 2 for i, c in enumerate(sorted({c for t in texts for w in t for c in w}))}
    batch = pad_batch(encode(texts, vocab))
    chars, lengths, where = unique_words(texts, lambda w: [letters[c] for c in w], 50)
    return CharBatch(batch.ids, batch.lengths, None, batch.index, chars, lengths, where)


def test_the_character_block_is_sklearns_char_wb_tfidf():
    batch = _char_batch(TEXTS)
    member = TfidfLogReg(num_labels=2, buckets=2**20, chars=True)
    _, cols, _ = member.counts(batch)
    df = torch.zeros(2 * member.buckets, dtype=torch.float64)
    df.index_add_(0, cols, torch.ones_like(cols, dtype=torch.float64))
    member.idf.copy_(torch.log((1 + len(TEXTS)) / (1 + df)) + 1)
    rows, cols, values = member.features(batch)
    chars = TfidfVectorizer(
        sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 5), lowercase=False
    )
    expected = chars.fit_transform([" ".join(t) for t in TEXTS])
    for r in range(len(TEXTS)):
        in_block = (rows == r) & (cols >= member.buckets)
        ours = sorted(values[in_block].tolist())
        np.testing.assert_allclose(ours, sorted(expected[r].data.tolist()), rtol=1e-6)
        words = values[(rows == r) & (cols < member.buckets)]
        assert float(words.pow(2).sum()) == pytest.approx(1.0)  # each block normalised alone
    # an unknown word is one <unk> to the word block, its own n-grams to the character block
    assert int(((rows == 3) & (cols < member.buckets)).sum()) == 1


def test_a_character_member_fits_and_predicts_with_and_only_with_characters():
    batch = _char_batch(TEXTS)
    labels = torch.tensor([0, 1, 0, 1, 0])
    labelled = CharBatch(batch.ids, batch.lengths, labels, batch.index, batch.chars,
                         batch.char_lengths, batch.char_index)  # fmt: skip
    member = fit_tfidf_logreg(TfidfLogReg(2, chars=True), [labelled], [labelled])
    assert member.weight.shape == (2 * member.buckets, 2)
    assert float(member.weight[member.buckets :].abs().sum()) > 0  # the characters count
    np.testing.assert_allclose(member(batch).sum(1).numpy(), 1.0, rtol=1e-5)
    with pytest.raises(ConfigError, match="CharBatch"):
        member(pad_batch([[2, 3]]))


def test_with_a_partner_c_is_the_best_for_the_mixture_not_for_the_member_alone():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 40).tolist()
    docs = [[*rng.integers(2, 12, 5).tolist(), *[20 + y] * int(rng.integers(0, 2))] for y in labels]
    train = make_batches(docs[:24], labels[:24], batch_size=8, bucket=0)
    dev = make_batches(docs[24:], labels[24:], batch_size=8, bucket=0)
    gold = np.array(labels[24:])
    right = rng.uniform(0.2, 0.8, len(gold))  # a network right on some texts, wrong on others
    partner = np.where(np.arange(2) == gold[:, None], right[:, None], 1 - right[:, None])

    def mixture_f1(member: TfidfLogReg) -> float:
        probs = np.zeros_like(partner)
        for batch in dev:
            assert batch.index is not None
            probs[batch.index.numpy()] = member(batch).numpy()
        return float(f1_score(gold, ((probs + partner) / 2).argmax(1), average="macro"))

    alone = fit_tfidf_logreg(TfidfLogReg(2), train, dev)
    mixed = fit_tfidf_logreg(TfidfLogReg(2), train, dev, partner=partner)
    assert not torch.equal(alone.weight, mixed.weight)  # the two rules choose differently here
    assert mixture_f1(mixed) > mixture_f1(alone)
