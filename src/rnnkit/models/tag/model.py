r"""The transducer: one tag per token (Goldberg 2017, §14.2), with a softmax or a CRF on top.

.. math:: h_{1:n} = \mathrm{BiRNN}([E w_i; \mathrm{char}(w_i)]_{i=1}^{n}), \qquad
          P_i = W h_i + b

The softmax head scores each position alone, :math:`L = \sum_i -\log \mathrm{softmax}(P_i)_{t_i}`;
the CRF head (:class:`rnnkit.nn.crf.CRF`) scores whole tag sequences (Huang et al. 2015; Lample
et al. 2016; Ma & Hovy 2016). Words are read through a word embedding (from scratch or from
pretrained vectors) concatenated with a character-level encoder of the word (:mod:`rnnkit.nn.char`),
run once per distinct word of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.models.common.embedder import Embedder
from rnnkit.nn import RNN, LockedDropout
from rnnkit.nn.char import CHAR_ENCODERS, CharBiLSTM, CharCNN, make_char_encoder
from rnnkit.nn.crf import CRF, Constraints

__all__ = [
    "HEADS",
    "CRFHead",
    "SoftmaxHead",
    "TagBatch",
    "Tagger",
    "TaggerConfig",
    "TaggerOutput",
    "TokenEmbedder",
    "build_tagger",
]

HEADS = ("crf", "softmax")


@dataclass(frozen=True)
class TaggerConfig:
    """Every option of the tagger (saved under ``model`` in a run's ``config.json``).

    Args:
        embedding_dim: ``E`` (the vectors' width when ``embeddings`` is set).
        embeddings: pretrained word vectors: a file or a named set (``glove-6b-50d``), loaded by
            :meth:`rnnkit.embeddings.vectors.Vectors.load`; ``None`` trains from scratch.
        freeze_embeddings: keep the word embeddings fixed.
        lowercase_lookup: a token missing from the vocabulary is looked up lowercased
            (``"Zebra"`` → ``"zebra"``) before it becomes ``<unk>``; the characters keep the case.
            Sensible with lowercased vectors such as GloVe 6B.
        word_dropout: in training, replace a token's word id by ``<unk>`` with this probability
            (so ``<unk>`` is trained; its characters still reach the char encoder).
        char_encoder: ``"cnn"`` (Ma & Hovy), ``"lstm"`` (Lample et al.) or ``"none"``.
        char_dim: character embedding width.
        char_size: width of a word's character vector (CNN filters, or 2 × BiLSTM units).
        char_kernel: CNN filter width.
        max_word_length: characters read per word (prefix and suffix kept).
        mode: the RNN cell (``"lstm"``, ``"gru"``, ``"gru-cho"``, ``"elman"``).
        hidden_size: ``H`` per direction.
        num_layers: stacked bidirectional layers.
        dropout: dropout between RNN layers.
        input_dropout: variational dropout on the word + char vectors.
        output_dropout: variational dropout on the RNN outputs.
        head: ``"crf"`` or ``"softmax"``.
        constrained: forbid the tag scheme's invalid transitions in the CRF (IOB2 / BIOES).
    """

    embedding_dim: int = 50
    embeddings: str | None = "glove-6b-50d"
    freeze_embeddings: bool = False
    lowercase_lookup: bool = True
    word_dropout: float = 0.05
    char_encoder: str = "cnn"
    char_dim: int = 25
    char_size: int = 50
    char_kernel: int = 3
    max_word_length: int = 20
    mode: str = "lstm"
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.0
    input_dropout: float = 0.33
    output_dropout: float = 0.33
    head: str = "crf"
    constrained: bool = True

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise ConfigError(f"model.head must be one of {', '.join(HEADS)}")
        if self.char_encoder not in (*CHAR_ENCODERS, "none"):
            raise ConfigError(f"model.char_encoder must be one of {', '.join(CHAR_ENCODERS)}, none")
        for name in ("word_dropout", "dropout", "input_dropout", "output_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"model.{name} must be in [0, 1)")
        sizes = ("embedding_dim", "hidden_size", "num_layers", "char_dim", "char_size")
        for name in sizes:
            if getattr(self, name) < 1:
                raise ConfigError(f"model.{name} must be >= 1")
        if self.max_word_length < 2:
            raise ConfigError("model.max_word_length must be >= 2")


@dataclass(frozen=True)
class TagBatch:
    """A batch of sentences for the tagger.

    Shape:
        - ids: ``(B, T)`` word ids, 0 at padding; lengths ``(B,)``.
        - chars: ``(U, L)`` character ids of the batch's ``U`` distinct words; char_lengths
          ``(U,)``; char_index ``(B, T)``: the row of ``chars`` of each token.
        - tags: ``(B, T)`` tag ids (0 at padding) or ``None``.
        - index: ``(B,)`` each row's position in the input list.
    """

    ids: Tensor
    lengths: Tensor
    chars: Tensor
    char_lengths: Tensor
    char_index: Tensor
    tags: Tensor | None = None
    index: Tensor | None = None

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def mask(self) -> Tensor:
        """``(B, T)`` bool, true at real tokens."""
        return torch.arange(self.ids.shape[1], device=self.ids.device) < self.lengths.unsqueeze(1)


@dataclass(frozen=True)
class TaggerOutput:
    """``logits`` ``(B, T, K)`` (the CRF's emission scores); ``loss`` (scalar, mean per real
    token) when the batch has tags; ``mask`` ``(B, T)``."""

    logits: Tensor
    loss: Tensor | None
    mask: Tensor


class TokenEmbedder(nn.Module):
    """``[E w_t; char(w_t)]`` for every token: ``(B, T, E + F)``.

    Args:
        words: the word :class:`~rnnkit.models.common.embedder.Embedder` (``input_size`` ``V``).
        chars: a character encoder, or ``None`` for words only.
        word_dropout: probability of replacing a word id by ``unk_id`` in training.
        unk_id: the ``<unk>`` id.
    """

    def __init__(
        self,
        words: Embedder,
        chars: CharCNN | CharBiLSTM | None = None,
        word_dropout: float = 0.0,
        unk_id: int = 1,
    ) -> None:
        super().__init__()
        self.words, self.chars = words, chars
        self.word_dropout, self.unk_id = word_dropout, unk_id
        self.input_size = words.input_size
        self.output_size = words.output_size + (chars.output_size if chars is not None else 0)

    def forward(self, batch: TagBatch) -> Tensor:
        ids = batch.ids
        if self.training and self.word_dropout > 0.0:
            drop = torch.rand(ids.shape, device=ids.device) < self.word_dropout
            ids = ids.masked_fill(drop & (ids != 0), self.unk_id)
        x = self.words(ids)  # (B, T, E)
        if self.chars is None:
            return x  # type: ignore[no-any-return]
        per_word = self.chars(batch.chars, batch.char_lengths)  # (U, F)
        return torch.cat([x, per_word[batch.char_index]], dim=2)


class SoftmaxHead(nn.Module):
    """Independent per-token softmax: logits ``(B, T, K)``, cross-entropy over real tokens."""

    def __init__(self, input_size: int, num_tags: int) -> None:
        super().__init__()
        self.proj = nn.Linear(input_size, num_tags)
        self.input_size, self.output_size = input_size, num_tags

    def forward(self, features: Tensor) -> Tensor:
        return self.proj(features)  # type: ignore[no-any-return]

    def loss(self, logits: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Mean cross-entropy per real token."""
        return F.cross_entropy(logits[mask].float(), tags[mask])

    def decode(self, logits: Tensor, mask: Tensor) -> Tensor:
        """``(B, T)`` argmax tags, 0 at padding."""
        return logits.argmax(dim=2).masked_fill(~mask, 0)


class CRFHead(nn.Module):
    """A linear layer to emission scores, then a :class:`~rnnkit.nn.crf.CRF`."""

    def __init__(
        self, input_size: int, num_tags: int, constraints: Constraints | None = None
    ) -> None:
        super().__init__()
        self.proj = nn.Linear(input_size, num_tags)
        self.crf = CRF(num_tags, constraints)
        self.input_size, self.output_size = input_size, num_tags

    def forward(self, features: Tensor) -> Tensor:
        return self.proj(features)  # type: ignore[no-any-return]

    def loss(self, logits: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """Negative log-likelihood summed over sentences, divided by the real tokens."""
        loss: Tensor = self.crf(logits.float(), tags, mask, reduction="token_mean")
        return loss

    def decode(self, logits: Tensor, mask: Tensor) -> Tensor:
        """``(B, T)`` Viterbi tags, 0 at padding."""
        return self.crf.decode(logits.float(), mask)[0]


class Tagger(nn.Module):
    """``embedder → dropout → encoder → dropout → head``.

    Args:
        embedder: a :class:`TokenEmbedder` (``output_size`` ``E + F``).
        encoder: a batch-first :class:`~rnnkit.nn.RNN` (normally bidirectional).
        head: a :class:`SoftmaxHead` or :class:`CRFHead`.
        input_dropout: variational dropout on the embedder's output.
        output_dropout: variational dropout on the encoder's output.

    Shape:
        - batch: :class:`TagBatch`; output: :class:`TaggerOutput`.
    """

    def __init__(
        self,
        embedder: TokenEmbedder,
        encoder: RNN,
        head: SoftmaxHead | CRFHead,
        input_dropout: float = 0.0,
        output_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        chain = (
            ("embedder", embedder.output_size, "encoder", encoder.input_size),
            ("encoder", encoder.output_size, "head", head.input_size),
        )
        for a, produced, b, expected in chain:
            if produced != expected:
                raise ConfigError(
                    f"the {a} gives vectors of size {produced} but the {b} "
                    f"expects input_size {expected}"
                )
        if not encoder.batch_first:
            raise ConfigError("the tagger's RNN must be batch_first")
        self.embedder, self.encoder, self.head = embedder, encoder, head
        self.input_dropout = LockedDropout(input_dropout)
        self.output_dropout = LockedDropout(output_dropout)

    @property
    def num_tags(self) -> int:
        """``K``."""
        return self.head.output_size

    def forward(self, batch: TagBatch) -> TaggerOutput:
        mask = batch.mask
        x = self.input_dropout(self.embedder(batch))  # (B, T, E + F)
        states = self.encoder.outputs(x, batch.lengths)  # (B, T, D·H)
        logits = self.head(self.output_dropout(states))  # (B, T, K)
        loss = None
        if batch.tags is not None:
            loss = self.head.loss(logits, batch.tags, mask)
        return TaggerOutput(logits, loss, mask)

    def decode(self, output: TaggerOutput) -> Tensor:
        """``(B, T)`` predicted tag ids (Viterbi for the CRF, argmax for softmax), 0 at padding."""
        return self.head.decode(output.logits, output.mask)


def build_tagger(
    config: TaggerConfig,
    vocab_size: int,
    num_chars: int,
    num_tags: int,
    constraints: Constraints | None = None,
    embeddings: Tensor | None = None,
    unk_id: int = 1,
) -> Tagger:
    """A :class:`Tagger` as ``config`` says; ``embeddings`` ``(V, E)`` initialise the words."""
    c = config
    if embeddings is not None and embeddings.shape[1] != c.embedding_dim:
        raise ConfigError(
            f"the word vectors have {embeddings.shape[1]} dimensions but model.embedding_dim is "
            f"{c.embedding_dim}; set model.embedding_dim={embeddings.shape[1]}"
        )
    if num_tags < 1:
        raise ConfigError("a tagger needs at least one tag")
    words = Embedder(vocab_size, c.embedding_dim, 0, c.freeze_embeddings, 0.0, embeddings)
    chars = None
    if c.char_encoder != "none":
        chars = make_char_encoder(c.char_encoder, num_chars, c.char_dim, c.char_size, c.char_kernel)
    embedder = TokenEmbedder(words, chars, c.word_dropout, unk_id)
    encoder = RNN(c.mode, embedder.output_size, c.hidden_size, c.num_layers, True, c.dropout)
    head: SoftmaxHead | CRFHead
    if c.head == "crf":
        head = CRFHead(encoder.output_size, num_tags, constraints if c.constrained else None)
    else:
        head = SoftmaxHead(encoder.output_size, num_tags)
    return Tagger(embedder, encoder, head, c.input_dropout, c.output_dropout)
