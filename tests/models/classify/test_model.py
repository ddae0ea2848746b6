import math

import pytest
import torch
import torch.nn.functional as F

from rnnkit.data.batching import pad_batch
from rnnkit.data.chars import CharIds, char_vocab
from rnnkit.errors import ConfigError
from rnnkit.models.classify.encoder import SkipEncoder
from rnnkit.models.classify.model import (
    CharBatch,
    Classifier,
    ClassifierConfig,
    MLPHead,
    balanced_class_weights,
    build_classifier,
)
from rnnkit.models.common.embedder import Embedder
from rnnkit.nn import RNN
from rnnkit.nn.char import unique_words
from rnnkit.nn.ngrams import HashedNgrams
from rnnkit.nn.pooling import MeanPooling
from rnnkit.training.distributed import shard_rows
from rnnkit.training.finetune import layer_groups

CONFIGS = [
    ClassifierConfig(embedding_dim=6, hidden_size=5, pooling="last", bidirectional=True),
    ClassifierConfig(
        embedding_dim=6, hidden_size=5, pooling="last", bidirectional=False, mode="gru"
    ),
    ClassifierConfig(embedding_dim=6, hidden_size=5, pooling="mean", num_layers=2),
    ClassifierConfig(embedding_dim=6, hidden_size=5, pooling="max", mode="elman"),
    ClassifierConfig(embedding_dim=6, hidden_size=5, pooling="attention", attention_size=4),
    ClassifierConfig(
        embedding_dim=6,
        hidden_size=5,
        pooling="attention",
        skip_connections=True,
        num_layers=2,
        mlp_hidden=7,
    ),
    *(
        ClassifierConfig(
            embedding_dim=6, hidden_size=5, pooling=pooling, ngrams=2, ngram_buckets=64, ngram_dim=3
        )
        for pooling in ("last", "mean", "max", "attention")
    ),
    ClassifierConfig(
        embedding_dim=6,
        hidden_size=5,
        pooling="attention",
        skip_connections=True,
        mlp_hidden=7,
        ngrams=3,
        ngram_buckets=64,
        ngram_dim=4,
    ),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_a_padded_batch_gives_each_text_its_own_logits(config):
    torch.manual_seed(0)
    model = build_classifier(config, vocab_size=20, num_labels=3).eval()
    seqs = [[3, 4, 5, 6, 7], [8], [9, 10, 11]]
    out = model(pad_batch(seqs, labels=[0, 1, 2]))
    assert out.logits.shape == (3, 3) and out.loss.ndim == 0
    assert (out.attention is not None) == (config.pooling == "attention")
    for i, seq in enumerate(seqs):
        alone = model(pad_batch([seq]))
        assert alone.loss is None
        torch.testing.assert_close(out.logits[i], alone.logits[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out.probabilities.sum(1), torch.ones(3))


def test_class_weights_weight_the_cross_entropy():
    torch.manual_seed(0)
    weights = torch.tensor([0.5, 2.0, 1.0])
    model = build_classifier(CONFIGS[0], 20, 3, class_weights=weights)
    batch = pad_batch([[3, 4], [5], [6, 7, 8], [9]], labels=[0, 1, 1, 2])
    out = model(batch)
    assert batch.labels is not None
    per = F.cross_entropy(out.logits, batch.labels, reduction="none")
    w = weights[batch.labels]
    torch.testing.assert_close(out.loss, (w * per).sum() / w.sum())


def test_balanced_class_weights():
    w = balanced_class_weights([0, 0, 0, 1], 3)
    torch.testing.assert_close(w, torch.tensor([4 / 9, 4 / 3, 1.0]))


def test_skip_encoder_concatenates_embeddings_and_every_layer():
    torch.manual_seed(0)
    enc = SkipEncoder("lstm", 3, 4, num_layers=2, bidirectional=True)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 2])
    out, _ = enc(x, lengths)
    assert out.shape == (2, 5, enc.output_size) and enc.output_size == 3 + 2 * 8
    torch.testing.assert_close(out[0, :, :3], x[0])
    assert (out[1, 2:] == 0).all()
    first, _ = enc.layers[0](x, lengths)
    torch.testing.assert_close(out[..., 3:11], first)


def test_mismatched_parts_are_refused_with_a_clear_message():
    emb, rnn = Embedder(10, 6), RNN("lstm", 6, 4)
    with pytest.raises(ConfigError, match="embedder gives vectors of size 6"):
        Classifier(emb, RNN("lstm", 5, 4), MeanPooling(4), MLPHead(4, 2))
    with pytest.raises(ConfigError, match="pooling"):
        Classifier(emb, rnn, MeanPooling(8), MLPHead(8, 2))
    with pytest.raises(ConfigError, match="class_weights"):
        Classifier(emb, rnn, MeanPooling(4), MLPHead(4, 2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ConfigError):
        MLPHead(4, 1)
    with pytest.raises(ConfigError, match="embedding_dim"):
        build_classifier(ClassifierConfig(embedding_dim=6), 10, 2, embeddings=torch.zeros(10, 5))
    bag = HashedNgrams(2, 16, 3)
    with pytest.raises(ConfigError, match=r"pooling \(4\) with the n-gram bag \(3\) gives .* 7"):
        Classifier(emb, rnn, MeanPooling(4), MLPHead(4, 2), ngrams=bag)
    assert Classifier(emb, rnn, MeanPooling(4), MLPHead(7, 2), ngrams=bag).ngrams is bag


@pytest.mark.parametrize(
    "options",
    [
        {"pooling": "sum"},
        {"class_weights": "inverse"},
        {"skip_connections": True, "pooling": "last"},
        {"dropout": 1.0},
        {"hidden_size": 0},
        {"mlp_hidden": 0},
    ],
)
def test_config_rejects_bad_values(options):
    with pytest.raises(ConfigError):
        ClassifierConfig(**options)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ngrams", -1),
        ("ngram_buckets", 0),
        ("ngram_buckets", 2**33),
        ("ngram_dim", 0),
        ("ngram_dropout", 1.0),
        ("ngram_dropout", -0.1),
    ],
)
def test_config_rejects_bad_ngram_settings_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=rf"model\.{key} must"):
        ClassifierConfig(**{key: value})


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"char_encoder": "gru"}, "char_encoder"),
        ({"char_encoder": "cnn", "char_dim": 0}, "char_dim"),
        ({"char_encoder": "cnn", "char_size": 0}, "char_size"),
        ({"char_encoder": "lstm", "char_size": 7}, "char_size"),
        ({"char_encoder": "cnn", "char_kernel": 4}, "char_kernel"),
        ({"char_encoder": "cnn", "max_word_length": 1}, "max_word_length"),
        ({"pooling": "concat", "skip_connections": True}, "skip_connections"),
        ({"pooling": "mean_max"}, "pooling"),
    ],
)
def test_config_rejects_bad_char_and_concat_settings_naming_the_key(options, key):
    with pytest.raises(ConfigError, match=rf"model\.{key}"):
        ClassifierConfig(**options)


def test_the_char_encoder_is_a_layer_group_read_before_the_encoder():
    config = ClassifierConfig(embedding_dim=4, hidden_size=3, char_encoder="cnn", char_size=5)
    model = build_classifier(config, 10, 2, num_chars=12)
    groups = list(layer_groups(model))
    assert groups == ["embedder", "chars.embedding", "chars.conv", "encoder.l0", "pooling", "head"]
    assert model.encoder.input_size == 4 + 5


def test_frozen_embeddings_do_not_train():
    torch.manual_seed(0)
    config = ClassifierConfig(embedding_dim=4, hidden_size=3, freeze_embeddings=True)
    model = build_classifier(config, 10, 2, embeddings=torch.randn(10, 4))
    before = model.embedder.embedding.weight.clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    model(pad_batch([[1, 2, 3]], labels=[1])).loss.backward()
    opt.step()
    assert torch.equal(before, model.embedder.embedding.weight)


def test_the_ngram_bag_joins_a_hierarchical_model():
    torch.manual_seed(0)
    config = ClassifierConfig(
        embedding_dim=4, hidden_size=3, hierarchical=True, ngrams=2, ngram_buckets=64, ngram_dim=2
    )
    model = build_classifier(config, vocab_size=10, num_labels=2, boundaries=[9]).eval()
    assert model.head.input_size == 6 + 2
    docs = [[1, 2, 9, 3, 9, 4], [5, 9, 6], [7]]
    out = model(pad_batch(docs))
    for i, doc in enumerate(docs):
        alone = model(pad_batch([doc]))
        torch.testing.assert_close(out.logits[i], alone.logits[0], rtol=1e-5, atol=1e-6)
        assert out.attention is not None and alone.attention is not None
        torch.testing.assert_close(out.attention[i, : len(doc)], alone.attention[0])


def test_the_ngram_table_is_a_layer_group_of_its_own():
    config = ClassifierConfig(embedding_dim=4, hidden_size=3, ngrams=2, ngram_buckets=32)
    model = build_classifier(config, 10, 2)
    groups = layer_groups(model)
    assert list(groups) == ["embedder", "encoder.l0", "pooling", "ngrams", "head"]
    assert groups["ngrams"] == ["ngrams.table.weight"]
    plain = build_classifier(ClassifierConfig(embedding_dim=4, hidden_size=3), 10, 2)
    assert "ngrams" not in layer_groups(plain) and plain.ngrams is None
    # the same weights in a fresh model (another seed) predict the same: the hash is pure
    torch.manual_seed(1)
    again = build_classifier(config, 10, 2)
    again.load_state_dict(model.state_dict())
    batch = pad_batch([[1, 2, 3], [4, 5]])
    torch.testing.assert_close(again.eval()(batch).logits, model.eval()(batch).logits)


def _bigram_loss(ngrams):
    """Train on texts told apart only by the order of "not good" (3 4) vs "good not" (4 3).

    The word vectors are frozen at zero, so the RNN's pooled state depends on the length only,
    and every text of class 0 has a twin of class 1 with the same words: only bigrams separate.
    """
    torch.manual_seed(0)
    config = ClassifierConfig(
        embedding_dim=4,
        hidden_size=3,
        pooling="mean",
        freeze_embeddings=True,
        ngrams=ngrams,
        ngram_buckets=1024,
        ngram_dim=4,
    )
    model = build_classifier(config, 12, 2, embeddings=torch.zeros(12, 4))
    fillers = [(x, y) for x in (5, 6, 7) for y in (8, 9, 10)]
    seqs = [[x, 3, 4, y] for x, y in fillers] + [[x, 4, 3, y] for x, y in fillers]
    batch = pad_batch(seqs, labels=[0] * len(fillers) + [1] * len(fillers))
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.1)
    losses = []
    for _ in range(40):
        opt.zero_grad()
        loss = model(batch).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_bigrams_learn_what_a_bag_of_words_cannot():
    losses = _bigram_loss(ngrams=2)
    assert losses[-1] < 0.1 < math.log(2) - 0.05 < losses[0]
    unigram = _bigram_loss(ngrams=1)
    assert min(unigram) > math.log(2) - 1e-4  # twins look alike: chance is the best it can do


def test_a_data_parallel_rank_keeps_the_whole_table_of_words():
    """``shard_rows`` as training passes it: each rank takes its texts and the whole table of
    the batch's distinct words, and reads them as the whole batch does."""
    tokens = [["good", "goood"], ["bad"], ["good", "#bad", "x"]]
    chars = char_vocab(tokens)
    config = ClassifierConfig(embedding_dim=4, hidden_size=3, char_encoder="cnn", char_size=5)
    model = build_classifier(config, 10, 2, num_chars=len(chars)).eval()
    plain = pad_batch([[2, 3], [4], [2, 5, 6]], [0, 1, 0])
    table, lengths, where = unique_words(tokens, CharIds(chars), config.max_word_length)
    batch = CharBatch(plain.ids, plain.lengths, plain.labels, plain.index, table, lengths, where)
    whole = model(batch).logits
    for rank, rows in ((0, slice(0, 2)), (1, slice(2, 3))):
        part = shard_rows(batch, rank, 2, keep=("chars", "char_lengths"))
        assert isinstance(part, CharBatch) and part.chars is table
        torch.testing.assert_close(model(part).logits, whole[rows])
