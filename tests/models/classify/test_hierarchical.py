"""The hierarchical encoder: span splitting, and padding that never leaks between documents."""

import torch

from rnnkit.models.classify.hierarchical import HierarchicalEncoder, boundary_ids, split_spans
from rnnkit.nn import RNN
from rnnkit.nn.pooling import make_pooling
from rnnkit.text.vocab import Vocab

DOT = 9


def test_split_spans_cuts_after_each_boundary():
    ids = torch.tensor([[1, 2, DOT, 3, DOT, 4], [5, DOT, 6, 0, 0, 0]])
    spans = split_spans(ids, torch.tensor([6, 3]), torch.tensor([DOT]))
    assert spans.span[0].tolist() == [0, 0, 0, 1, 1, 2]
    assert spans.pos[0].tolist() == [0, 1, 2, 0, 1, 0]
    assert spans.span[1, :3].tolist() == [0, 0, 1] and spans.pos[1, :3].tolist() == [0, 1, 0]
    assert spans.count.tolist() == [3, 2]
    assert spans.lengths.tolist() == [[3, 2, 1], [2, 1, 0]]


def test_trailing_boundary_makes_no_empty_span():
    ids = torch.tensor([[1, DOT, 2, DOT]])
    spans = split_spans(ids, torch.tensor([4]), torch.tensor([DOT]))
    assert spans.count.tolist() == [2] and spans.lengths.tolist() == [[2, 2]]


def test_boundary_ids_are_sentence_punctuation():
    vocab = Vocab.from_tokens(["a", ".", "!!", "?!", ",", "...", "…"], specials=["<pad>", "<unk>"])
    assert {vocab.token(i) for i in boundary_ids(vocab)} == {".", "!!", "?!", "...", "…"}


def _encoder(pooling):
    torch.manual_seed(0)
    word = RNN("lstm", 4, 3, bidirectional=True)
    pool = make_pooling(pooling, 6, True, None)
    doc = RNN("gru", pool.output_size, 5, bidirectional=True)
    return HierarchicalEncoder(word, pool, doc, [DOT]).double()


def test_a_padded_batch_equals_each_document_alone():
    enc = _encoder("attention")
    docs = [[1, 2, DOT, 3, DOT, 4], [5, DOT, 6], [7]]
    table = torch.randn(10, 4, dtype=torch.float64)
    lengths = torch.tensor([len(d) for d in docs])
    ids = torch.zeros(3, 6, dtype=torch.long)
    for i, d in enumerate(docs):
        ids[i, : len(d)] = torch.tensor(d)
    batch = enc(table[ids], lengths, ids)
    for i, d in enumerate(docs):
        one = torch.tensor([d])
        alone = enc(table[one], torch.tensor([len(d)]), one)
        n = int(alone.count)
        assert int(batch.count[i]) == n
        torch.testing.assert_close(batch.states[i, :n], alone.states[0])
        assert torch.all(batch.states[i, n:] == 0)
        span_w = torch.softmax(torch.randn(1, n, dtype=torch.float64), 1)
        padded_w = torch.zeros(3, batch.states.shape[1], dtype=torch.float64)
        padded_w[i, :n] = span_w
        tok = batch.token_weights(padded_w)[i]
        torch.testing.assert_close(tok[: len(d)], alone.token_weights(span_w)[0])
        assert torch.all(tok[len(d) :] == 0)
        torch.testing.assert_close(tok.sum(), torch.tensor(1.0, dtype=torch.float64))
