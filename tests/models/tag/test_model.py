"""Tagger: sizes chain, padding never leaks into a sentence's scores, the two heads' losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import ConfigError
from rnnkit.models.common.embedder import Embedder
from rnnkit.models.tag.model import (
    CRFHead,
    SoftmaxHead,
    TagBatch,
    Tagger,
    TaggerConfig,
    TokenEmbedder,
    build_tagger,
)
from rnnkit.nn import RNN
from rnnkit.nn.char import unique_words

SMALL = TaggerConfig(
    embeddings=None, embedding_dim=6, hidden_size=5, char_dim=4, char_size=4, word_dropout=0.0
)


def make_batch(sentences: list[list[int]], tags: list[list[int]] | None = None) -> TagBatch:
    """Word ids double as single characters, so each word has a character vector too."""
    t = max(map(len, sentences))
    ids = torch.zeros(len(sentences), t, dtype=torch.long)
    gold = torch.zeros(len(sentences), t, dtype=torch.long)
    for i, s in enumerate(sentences):
        ids[i, : len(s)] = torch.tensor(s)
        if tags is not None:
            gold[i, : len(s)] = torch.tensor(tags[i])
    words = [[str(w) for w in s] for s in sentences]
    chars, lengths, index = unique_words(words, lambda w: [int(w), int(w) + 1], 10)
    return TagBatch(
        ids,
        torch.tensor([len(s) for s in sentences]),
        chars,
        lengths,
        index,
        gold if tags is not None else None,
        torch.arange(len(sentences)),
    )


@pytest.mark.parametrize("head", ["crf", "softmax"])
@pytest.mark.parametrize("chars", ["cnn", "lstm", "none"])
@torch.no_grad()
def test_padded_batch_equals_each_sentence_alone(head: str, chars: str) -> None:
    torch.manual_seed(0)
    cfg = TaggerConfig(**{**SMALL.__dict__, "head": head, "char_encoder": chars})
    model = build_tagger(cfg, 12, 14, 3).eval()
    sents, tags = [[2, 3, 4, 5], [6], [7, 8]], [[0, 1, 2, 0], [1], [2, 2]]
    out = model(make_batch(sents, tags))
    best = model.decode(out)
    assert out.logits.shape == (3, 4, 3) and out.mask.sum() == 7
    total = 0.0
    for i, (s, t) in enumerate(zip(sents, tags, strict=True)):
        alone = model(make_batch([s], [t]))
        torch.testing.assert_close(out.logits[i, : len(s)], alone.logits[0])
        assert best[i, : len(s)].tolist() == model.decode(alone)[0].tolist()
        assert alone.loss is not None
        total += float(alone.loss) * len(s)
    assert out.loss is not None and float(out.loss) == pytest.approx(total / 7, rel=1e-5)


def test_softmax_loss_is_token_cross_entropy() -> None:
    torch.manual_seed(1)
    model = build_tagger(TaggerConfig(**{**SMALL.__dict__, "head": "softmax"}), 12, 14, 4)
    batch = make_batch([[2, 3, 4], [5]], [[0, 1, 3], [2]])
    out = model.eval()(batch)
    flat = torch.cat([out.logits[0, :3], out.logits[1, :1]])
    expected = F.cross_entropy(flat, torch.tensor([0, 1, 3, 2]))
    assert out.loss is not None
    torch.testing.assert_close(out.loss, expected)
    assert model(make_batch([[2]])).loss is None


def test_training_reduces_the_loss_and_reaches_every_part() -> None:
    torch.manual_seed(2)
    model = build_tagger(SMALL, 12, 14, 3)
    batch = make_batch([[2, 3, 4], [5, 6]], [[0, 1, 2], [2, 1]])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    first = None
    for _ in range(30):
        opt.zero_grad()
        loss = model(batch).loss
        assert loss is not None
        loss.backward()
        first = first if first is not None else float(loss)
        opt.step()
    assert float(loss) < first / 4  # type: ignore[operator]
    for name, p in model.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_word_dropout_replaces_ids_by_unk_only_in_training() -> None:
    words = Embedder(10, 3)
    emb = TokenEmbedder(words, None, word_dropout=0.999, unk_id=1)
    batch = make_batch([[4, 5, 6]])
    with torch.no_grad():
        trained = emb.train()(batch)
        torch.testing.assert_close(trained, words(torch.ones(1, 3, dtype=torch.long)))
        torch.testing.assert_close(emb.eval()(batch), words(batch.ids))


def test_sizes_must_chain() -> None:
    emb = TokenEmbedder(Embedder(10, 4))
    with pytest.raises(ConfigError, match="encoder"):
        Tagger(emb, RNN("lstm", 5, 3, bidirectional=True), SoftmaxHead(6, 2))
    with pytest.raises(ConfigError, match="head"):
        Tagger(emb, RNN("lstm", 4, 3, bidirectional=True), CRFHead(5, 2))
    with pytest.raises(ConfigError, match="batch_first"):
        Tagger(emb, RNN("lstm", 4, 3, batch_first=False), SoftmaxHead(3, 2))
    with pytest.raises(ConfigError):
        build_tagger(SMALL, 10, 10, 3, embeddings=torch.zeros(10, 7))
    for bad in ({"head": "mlp"}, {"char_encoder": "gru"}, {"input_dropout": 1.0}):
        with pytest.raises(ConfigError):
            TaggerConfig(**{**SMALL.__dict__, **bad})
