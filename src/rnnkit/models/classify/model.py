r"""The acceptor: read a text, encode it with an RNN, predict one label (Goldberg 2017, §14.1).

.. math:: p(y \mid w_{1:n}) = \mathrm{softmax}(\mathrm{MLP}(\mathrm{pool}(\mathrm{RNN}(e_{1:n}))))

With ``ngrams`` the head also reads a bag of hashed n-grams (fastText, Joulin et al. 2017): its
input is :math:`[\mathrm{pool}(\mathrm{RNN}(e_{1:n})); \mathrm{bag}(w_{1:n})]`, a "wide and
deep" model (Cheng et al. 2016) in which the n-gram evidence of a TF-IDF + logistic-regression
baseline and the RNN's reading are weighed by one softmax (the mixture of Mesnil et al. 2015,
learnt jointly).

With ``char_encoder`` each word's embedding is joined by a vector read from its characters, the
tagger's encoder (:mod:`rnnkit.nn.char`; Ma & Hovy 2016, Lample et al. 2016), so misspellings,
elongations, hashtags and words out of the vocabulary still have a shape:
:math:`e_t = [E w_t; \mathrm{char}(w_t)]`.

:class:`Classifier` takes its parts through the constructor and checks that their sizes chain;
:func:`build_classifier` makes them from a :class:`ClassifierConfig`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.data.batching import PaddedBatch
from rnnkit.errors import ConfigError
from rnnkit.models.classify.encoder import SkipEncoder
from rnnkit.models.classify.hierarchical import HierarchicalEncoder
from rnnkit.models.common.embedder import Embedder
from rnnkit.nn import RNN
from rnnkit.nn.char import CHAR_ENCODERS, CharBiLSTM, CharCNN, make_char_encoder
from rnnkit.nn.ngrams import HashedNgrams
from rnnkit.nn.pooling import POOLINGS, Pooling, make_pooling

__all__ = [
    "CLASS_WEIGHTS",
    "CharBatch",
    "Classifier",
    "ClassifierConfig",
    "ClassifierOutput",
    "MLPHead",
    "balanced_class_weights",
    "build_classifier",
]

CLASS_WEIGHTS = ("none", "balanced")
_DEFAULT_EMBEDDING_DIM = 100


@dataclass(frozen=True)
class ClassifierConfig:
    """Every option of the model (saved under ``model`` in a run's ``config.json``).

    Args:
        embedding_dim: ``E``; ``None``: the width of ``embeddings``, or 100 without them.
        embeddings: word vectors to initialise the embedding table: a word2vec/GloVe file or a
            named set (``glove-6b-50d``); ``None`` trains the table from scratch. Words the
            vectors lack are initialised as :func:`~rnnkit.models.common.embedder.pretrained_matrix`
            says.
        freeze_embeddings: keep the embeddings fixed.
        embedding_dropout: dropout on the embeddings.
        mode: the RNN cell (``"lstm"``, ``"gru"``, ``"gru-cho"``, ``"elman"``).
        hidden_size: ``H`` per direction.
        num_layers: stacked RNN layers.
        bidirectional: read the text both ways.
        dropout: dropout between RNN layers.
        pooling: ``"last"``, ``"mean"``, ``"max"``, ``"attention"`` or ``"concat"`` (ULMFiT's
            ``[last; max; mean]``, :class:`~rnnkit.nn.pooling.ConcatPooling`).
        attention_size: ``None`` for DeepMoji's attention, else Yang et al.'s hidden width.
        skip_connections: pool over ``[embeddings; every layer's outputs]`` (DeepMoji).
        mlp_hidden: width of the head's hidden layer (``None``: a linear head).
        head_dropout: dropout before each layer of the head.
        class_weights: ``"balanced"`` weights the loss of class ``c`` by ``N / (C · N_c)``.
        hierarchical: read long documents as spans of sentences
            (:class:`~.hierarchical.HierarchicalEncoder`): a bidirectional RNN and
            ``pooling`` per span, then an RNN with ``num_layers`` over the span vectors.
        ngrams: the highest order of the bag of hashed n-grams joined to the pooled state
            (:class:`~rnnkit.nn.ngrams.HashedNgrams`): 0 leaves it out, 1 is a bag of words,
            2 adds bigrams (as the TF-IDF baseline), 3 trigrams.
        ngram_buckets: rows of the n-gram table. Of ``U`` n-grams that recur in a corpus,
            about ``U / buckets`` share a row with another: with 2**19, 4% of 20,000. The
            optimisers are dense, so every step walks the whole table (``buckets ·
            ngram_dim`` parameters); the default 4.2M parameters add about half the cost of
            a CPU step of the default RNN (9 → 14 ms, E = 50, H = 64, batch 32, one
            thread), where 2**19 × 16 takes 33 ms and 2**20 × 64 about 290 ms.
        ngram_dim: width of the n-gram vector. A linear head over it is a linear model of
            rank ``ngram_dim`` over the n-gram counts, as expressive as logistic regression
            over them once ``ngram_dim`` is at least the number of classes (fastText uses
            10); 8 covers up to 8 classes, and rows matter more than width for collisions.
        ngram_dropout: dropout on the n-gram vector.
        tfidf_member: average the network's probabilities half and half with those of a
            TF-IDF + logistic regression over the same tokens' uni- and bigrams, fitted after
            the network (:class:`~.wide.TfidfLogReg`; Mesnil et al. 2015).
        tfidf_chars: that member also counts the character 2- to 5-grams inside each word
            (scikit-learn's ``char_wb``), read from the characters of ``char_encoder``: without
            one the member stays with words.
        char_encoder: ``"none"``, ``"cnn"`` (Ma & Hovy 2016) or ``"lstm"`` (Lample et al. 2016):
            each token's character vector joined to its word embedding before the RNN; the
            characters are those of the tokens after the pipeline, words out of the vocabulary
            included. Sizes as the tagger's (:class:`~rnnkit.models.tag.model.TaggerConfig`).
        char_dim: character embedding width.
        char_size: width of a word's character vector (CNN filters, or 2 × BiLSTM units).
        char_kernel: CNN filter width (odd).
        max_word_length: characters read per word (prefix and suffix kept).
        adversarial: ``ε``, the L2 norm per text of an adversarial perturbation of the word
            embeddings during training (Miyato et al. 2017, eq. 2-5; :mod:`.adversarial`):
            the loss becomes ``L(x) + L(x + r_adv)``. 0 trains as usual; inference never
            perturbs. The embeddings are not normalised as the paper's, so ``ε`` is on
            GloVe's scale.
        pretrained: ``"general-lm"`` starts the encoder from a language model pretrained on
            general English and fine-tuned on the task's text (ULMFiT, :mod:`.pretrain`), or
            the run directory of a language model to use as the general one; the model then
            takes the LM's sizes. ``"auto"``: ``"general-lm"`` for a training set of at least
            :data:`~.pretrain.AUTO_MIN_TEXTS` texts, none for a smaller one. ``None``: no
            pretraining.
        task_lm_epochs: epochs of fine-tuning that LM on the task's text (0: none).
    """

    embedding_dim: int | None = None
    embeddings: str | None = None
    freeze_embeddings: bool = False
    embedding_dropout: float = 0.0
    mode: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.0
    pooling: str = "attention"
    attention_size: int | None = None
    skip_connections: bool = False
    mlp_hidden: int | None = None
    head_dropout: float = 0.0
    class_weights: str = "none"
    hierarchical: bool = False
    ngrams: int = 0
    ngram_buckets: int = 2**19
    ngram_dim: int = 8
    ngram_dropout: float = 0.0
    tfidf_member: bool = False
    tfidf_chars: bool = False
    char_encoder: str = "none"
    char_dim: int = 25
    char_size: int = 50
    char_kernel: int = 3
    max_word_length: int = 20
    adversarial: float = 0.0
    pretrained: str | None = None
    task_lm_epochs: int = 2

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ConfigError(f"model.pooling must be one of {', '.join(POOLINGS)}")
        if self.class_weights not in CLASS_WEIGHTS:
            raise ConfigError(f"model.class_weights must be one of {', '.join(CLASS_WEIGHTS)}")
        if self.skip_connections and self.hierarchical:
            raise ConfigError("model.skip_connections and model.hierarchical do not combine")
        if self.skip_connections and self.pooling in ("last", "concat"):
            raise ConfigError("model.skip_connections needs mean, max or attention pooling")
        for name in ("embedding_dropout", "dropout", "head_dropout", "ngram_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"model.{name} must be in [0, 1)")
        if min(self.embedding_dim or 1, self.hidden_size, self.num_layers) < 1:
            raise ConfigError("model.embedding_dim, hidden_size and num_layers must be >= 1")
        if self.mlp_hidden is not None and self.mlp_hidden < 1:
            raise ConfigError("model.mlp_hidden must be >= 1 or None")
        if not 0.0 <= self.adversarial < math.inf:  # NaN fails both comparisons
            raise ConfigError(
                f"model.adversarial must be a finite number >= 0 (0: off), got {self.adversarial}"
            )
        if self.task_lm_epochs < 0:
            raise ConfigError(f"model.task_lm_epochs must be >= 0, got {self.task_lm_epochs}")
        self._check_ngrams()
        self._check_chars()

    def _check_ngrams(self) -> None:
        if self.ngrams < 0:
            raise ConfigError(f"model.ngrams must be >= 0 (0: no n-gram bag), got {self.ngrams}")
        if not 1 <= self.ngram_buckets <= 2**32:
            raise ConfigError(f"model.ngram_buckets must be in 1..2**32, got {self.ngram_buckets}")
        if self.ngram_dim < 1:
            raise ConfigError(f"model.ngram_dim must be >= 1, got {self.ngram_dim}")

    def _check_chars(self) -> None:
        if self.char_encoder not in ("none", *CHAR_ENCODERS):
            raise ConfigError(
                f"model.char_encoder must be one of none, {', '.join(CHAR_ENCODERS)}, "
                f"got {self.char_encoder!r}"
            )
        for name in ("char_dim", "char_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {getattr(self, name)}")
        if self.char_kernel < 1 or self.char_kernel % 2 == 0:
            raise ConfigError(f"model.char_kernel must be odd and >= 1, got {self.char_kernel}")
        if self.char_encoder == "lstm" and self.char_size % 2:
            raise ConfigError(
                f"model.char_size must be even for a char BiLSTM, got {self.char_size}"
            )
        if self.max_word_length < 2:
            raise ConfigError(f"model.max_word_length must be >= 2, got {self.max_word_length}")


@dataclass(frozen=True)
class CharBatch(PaddedBatch):
    """A :class:`~rnnkit.data.batching.PaddedBatch` with the characters of its words, for a
    classifier with a character encoder (the tagger's layout,
    :class:`~rnnkit.models.tag.model.TagBatch`).

    Shape:
        - chars: ``(U, L)`` character ids of the batch's ``U`` distinct tokens; char_lengths
          ``(U,)``; char_index ``(B, T)``: the row of ``chars`` of each token (0 at padding).
    """

    chars: Tensor | None = None
    char_lengths: Tensor | None = None
    char_index: Tensor | None = None


@dataclass(frozen=True)
class ClassifierOutput:
    """``logits`` ``(B, C)``; ``loss`` (scalar) when the batch has labels; ``attention``
    ``(B, T)`` for attention pooling (0 at padding), else ``None``."""

    logits: Tensor
    loss: Tensor | None
    attention: Tensor | None

    @property
    def probabilities(self) -> Tensor:
        """``(B, C)`` class probabilities (float32 at least)."""
        return torch.softmax(self.logits.float(), dim=-1)


class MLPHead(nn.Module):
    """Pooled vector ``(B, F)`` to logits ``(B, C)``: ``[dropout → linear → tanh] → dropout →
    linear``, the bracket present when ``hidden`` is given."""

    def __init__(
        self, input_size: int, num_labels: int, hidden: int | None = None, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if num_labels < 2:
            raise ConfigError(f"a classifier needs at least 2 labels, got {num_labels}")
        layers: list[nn.Module] = []
        width = input_size
        if hidden is not None:
            layers += [nn.Dropout(dropout), nn.Linear(input_size, hidden), nn.Tanh()]
            width = hidden
        layers += [nn.Dropout(dropout), nn.Linear(width, num_labels)]
        self.net = nn.Sequential(*layers)
        self.input_size = input_size
        self.output_size = num_labels

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # type: ignore[no-any-return]


class Classifier(nn.Module):
    """``embedder → encoder → pooling → head``, with a cross-entropy loss; with ``ngrams``, the
    head reads ``[pooled; ngrams(ids)]``.

    Args:
        embedder: ids ``(B, T)`` to ``(B, T, E)``; publishes ``output_size``.
        encoder: ``(B, T, E)`` and lengths to states ``(B, T, F)``; an :class:`~rnnkit.nn.RNN`
            (batch-first) or a :class:`SkipEncoder`.
        pooling: states to ``(B, P)``.
        head: ``(B, P + D)`` to logits ``(B, C)`` (``D`` = 0 without ``ngrams``).
        class_weights: ``(C,)`` loss weight of each class, or ``None`` for equal weights.
        ngrams: ids and lengths to ``(B, D)``, a bag of hashed n-grams, or ``None``. It is a
            top-level child of its own, so fine-tuning sees it as a layer group and a transfer
            from a run without it leaves it new.
        chars: a character encoder (:mod:`rnnkit.nn.char`), words ``(U, L)`` to ``(U, K)``,
            whose vector of each token joins its embedding (the encoder then reads ``E + K``),
            or ``None``; batches must then be :class:`CharBatch` es.

    Shape:
        - batch: a :class:`~rnnkit.data.batching.PaddedBatch`, ids ``(B, T)``, lengths ``(B,)``.
        - output: :class:`ClassifierOutput`.
    """

    def __init__(
        self,
        embedder: Embedder,
        encoder: nn.Module,
        pooling: Pooling,
        head: MLPHead,
        class_weights: Tensor | None = None,
        ngrams: HashedNgrams | None = None,
        chars: CharCNN | CharBiLSTM | None = None,
    ) -> None:
        super().__init__()
        wide = 0 if ngrams is None else ngrams.output_size
        char_size = 0 if chars is None else chars.output_size
        _check_chain(
            (
                "embedder" if chars is None else "embedder with the char encoder",
                embedder.input_size,
                embedder.output_size + char_size,
            ),
            ("encoder", _size(encoder, "input_size"), _size(encoder, "output_size")),
            (_pooling_name(pooling, wide), pooling.input_size, pooling.output_size + wide),
            ("head", head.input_size, head.output_size),
        )
        if isinstance(encoder, RNN) and not encoder.batch_first:
            raise ConfigError("the classifier's RNN must be batch_first")
        num_labels = head.output_size
        weights = torch.ones(num_labels) if class_weights is None else class_weights.float()
        if weights.shape != (num_labels,) or bool((weights <= 0).any()):
            raise ConfigError(f"class_weights must be {num_labels} positive numbers")
        self.embedder = embedder
        self.chars = chars  # registered in reading order: layer groups run input to output
        self.encoder, self.pooling = encoder, pooling
        self.ngrams = ngrams  # registered before the head: layer groups run input to output
        self.head = head
        self.class_weights: Tensor
        self.register_buffer("class_weights", weights)

    @property
    def num_labels(self) -> int:
        """``C``."""
        return self.head.output_size

    def embed(self, batch: PaddedBatch) -> Tensor:
        """``(B, T, E)`` word embeddings, or ``(B, T, E + K)`` ``[E w_t; char(w_t)]`` with a
        character encoder."""
        embedded: Tensor = self.embedder(batch.ids)  # (B, T, E)
        if self.chars is None:
            return embedded
        chars = getattr(batch, "chars", None)
        if chars is None:
            raise ConfigError(
                "this classifier reads characters (model.char_encoder): give it CharBatch es, "
                "as TextClassifier.batches makes them"
            )
        cb = cast(CharBatch, batch)
        per_word = self.chars(chars, cb.char_lengths)  # (U, K)
        return torch.cat([embedded, per_word[cb.char_index].to(embedded.dtype)], dim=2)

    def forward(self, batch: PaddedBatch) -> ClassifierOutput:
        embedded = self.embed(batch)  # (B, T, E [+ K])
        if isinstance(self.encoder, HierarchicalEncoder):
            doc = self.encoder(embedded, batch.lengths, batch.ids)  # states (B, S, F)
            pooled = self.pooling(doc.states, doc.count)
            attention = doc.token_weights(pooled.weights)
        else:
            if isinstance(self.encoder, RNN):  # only its outputs: the fastest path
                states = self.encoder.outputs(embedded, batch.lengths)  # (B, T, F)
            else:
                states, _ = self.encoder(embedded, batch.lengths)
            pooled = self.pooling(states, batch.lengths)
            attention = pooled.weights
        features = pooled.vector  # (B, P)
        if self.ngrams is not None:
            bag = self.ngrams(batch.ids, batch.lengths).to(features.dtype)  # (B, D)
            features = torch.cat([features, bag], dim=-1)  # (B, P + D)
        logits = self.head(features)  # (B, C)
        loss = None
        if batch.labels is not None:
            loss = F.cross_entropy(logits.float(), batch.labels, weight=self.class_weights)
        return ClassifierOutput(logits, loss, attention)


def _size(part: nn.Module, name: str) -> int:
    value = getattr(part, name, None)
    if not isinstance(value, int):
        raise ConfigError(f"{type(part).__name__} must publish an integer {name}")
    return value


def _pooling_name(pooling: Pooling, wide: int) -> str:
    if not wide:
        return "pooling"
    return f"pooling ({pooling.output_size}) with the n-gram bag ({wide})"


def _check_chain(*parts: tuple[str, int, int]) -> None:
    for prev, nxt in itertools.pairwise(parts):
        produced, expected = prev[2], nxt[1]
        if produced != expected:
            raise ConfigError(
                f"the {prev[0]} gives vectors of size {produced} but the {nxt[0]} "
                f"expects input_size {expected}"
            )


def balanced_class_weights(label_ids: list[int], num_labels: int) -> Tensor:
    """``N / (C · N_c)`` for each class ``c`` (King & Zeng 2001; scikit-learn's "balanced");
    a class absent from the data gets weight 1."""
    counts = torch.bincount(torch.tensor(label_ids, dtype=torch.long), minlength=num_labels)
    weights = len(label_ids) / (num_labels * counts.double().clamp(min=1))
    return torch.where(counts > 0, weights, torch.ones_like(weights)).float()


def embedding_dim(config: ClassifierConfig, embeddings: Tensor | None = None) -> int:
    """``E``: ``config.embedding_dim``, else the width of ``embeddings``, else 100."""
    if config.embedding_dim is not None:
        return config.embedding_dim
    return int(embeddings.shape[1]) if embeddings is not None else _DEFAULT_EMBEDDING_DIM


def build_classifier(
    config: ClassifierConfig,
    vocab_size: int,
    num_labels: int,
    embeddings: Tensor | None = None,
    class_weights: Tensor | None = None,
    boundaries: Sequence[int] = (),
    num_chars: int = 0,
) -> Classifier:
    """A :class:`Classifier` as ``config`` says; ``embeddings`` ``(V, E)`` initialise the table;
    ``boundaries`` are the ids that end a span of a hierarchical model (see
    :func:`~rnnkit.models.classify.hierarchical.boundary_ids`); ``num_chars`` is the size of the
    character vocabulary (:func:`rnnkit.data.chars.char_vocab`) of a model with a
    ``char_encoder``."""
    c = config
    dim = embedding_dim(c, embeddings)
    if embeddings is not None and embeddings.shape[1] != dim:
        raise ConfigError(
            f"the word vectors have {embeddings.shape[1]} dimensions but model.embedding_dim is "
            f"{dim}; set model.embedding_dim={embeddings.shape[1]} (or leave it unset)"
        )
    embedder = Embedder(vocab_size, dim, 0, c.freeze_embeddings, c.embedding_dropout, embeddings)
    chars = _char_encoder(c, num_chars)
    width = dim + (0 if chars is None else chars.output_size)  # what the encoder reads
    encoder: nn.Module
    if c.hierarchical:
        encoder = _hierarchical(c, width, boundaries)
    elif c.skip_connections:
        encoder = SkipEncoder(
            c.mode, width, c.hidden_size, c.num_layers, c.bidirectional, c.dropout
        )
    else:
        encoder = RNN(c.mode, width, c.hidden_size, c.num_layers, c.bidirectional, c.dropout)
    pooling = make_pooling(
        c.pooling,
        _size(encoder, "output_size"),
        c.bidirectional and not c.skip_connections,
        c.attention_size,
    )
    ngrams = None
    if c.ngrams:
        ngrams = HashedNgrams(c.ngrams, c.ngram_buckets, c.ngram_dim, c.ngram_dropout)
    wide = 0 if ngrams is None else ngrams.output_size
    head = MLPHead(pooling.output_size + wide, num_labels, c.mlp_hidden, c.head_dropout)
    return Classifier(embedder, encoder, pooling, head, class_weights, ngrams, chars)


def _char_encoder(c: ClassifierConfig, num_chars: int) -> CharCNN | CharBiLSTM | None:
    if c.char_encoder == "none":
        return None
    if num_chars < 3:  # <pad>, <unk> and at least one character
        raise ConfigError(
            f"model.char_encoder={c.char_encoder} needs a character vocabulary (num_chars), got "
            f"{num_chars} entries"
        )
    return make_char_encoder(c.char_encoder, num_chars, c.char_dim, c.char_size, c.char_kernel)


def _hierarchical(c: ClassifierConfig, dim: int, boundaries: Sequence[int]) -> HierarchicalEncoder:
    word_rnn = RNN(c.mode, dim, c.hidden_size, 1, bidirectional=True)
    span_pooling = make_pooling(c.pooling, 2 * c.hidden_size, True, c.attention_size)
    span_rnn = RNN(
        c.mode,
        span_pooling.output_size,
        c.hidden_size,
        c.num_layers,
        c.bidirectional,
        c.dropout,
    )
    return HierarchicalEncoder(word_rnn, span_pooling, span_rnn, boundaries)
