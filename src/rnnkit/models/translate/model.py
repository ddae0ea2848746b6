r"""The encoder-decoder: read a source sentence, write a target sentence (Goldberg 2017, §17).

An encoder RNN reads the source (Cho et al. 2014; Sutskever et al. 2014), a bridge turns its final
states into the decoder's first state, and a decoder RNN writes the target one token at a time,
attending over the encoder states (Luong et al. 2015, §3; score functions of Bahdanau et al. 2015
and Luong et al. 2015 in :mod:`rnnkit.nn.attention`). At step ``t``:

.. math::
    h_t &= \mathrm{RNN}([E y_{t-1}; \tilde h_{t-1}], h_{t-1})
        \quad (\tilde h_{t-1} \text{ only with input feeding, Luong §3.3}) \\
    c_t, \alpha_t &= \mathrm{attend}(h_t, \text{encoder states}) \\
    \tilde h_t &= \tanh(W_c [c_t; h_t]) \quad (\tanh(W_c h_t) \text{ without attention}) \\
    p(y_t \mid y_{<t}, x) &= \mathrm{softmax}(W_s \tilde h_t)

With ``tie_embeddings``, :math:`W_s` is the target embedding matrix (Press & Wolf 2017), so
:math:`\tilde h_t` has the embedding width. The decoder steps through time with the same
:class:`~rnnkit.nn.RNN` as the encoder, called on one step with the previous state (the fused
kernel, cuDNN on a GPU): input feeding and scheduled sampling need ``y_{t-1}`` and
:math:`\tilde h_{t-1}` before step ``t`` can run. Teacher forcing without either runs the decoder
RNN over the whole target in one fused call, and attention over all steps at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError
from rnnkit.models.common.embedder import Embedder
from rnnkit.nn import RNN, LSTMState, has_cell_state
from rnnkit.nn.attention import SCORES, Attention
from rnnkit.nn.pooling import length_mask

__all__ = [
    "ATTENTIONS",
    "Bridge",
    "Decoder",
    "DecoderState",
    "Encoder",
    "Memory",
    "PairBatch",
    "Seq2Seq",
    "Seq2SeqConfig",
    "Seq2SeqOutput",
    "StepOutput",
    "build_seq2seq",
    "reorder_state",
]

ATTENTIONS = (*SCORES, "none")
RnnState = Tensor | LSTMState


@dataclass(frozen=True)
class Seq2SeqConfig:
    """Every option of the model (saved under ``model`` in a run's ``config.json``).

    Args:
        embedding_dim: ``E``, source and target embeddings.
        mode: the cell of encoder and decoder: ``"lstm"`` or ``"gru"``.
        hidden_size: ``H`` of the encoder, per direction.
        encoder_layers: stacked encoder layers.
        bidirectional: a bidirectional encoder (``D = 2``).
        decoder_hidden_size: ``H'`` of the decoder (``None``: ``hidden_size``, so that
            ``--set model.hidden_size`` sizes both).
        decoder_layers: stacked decoder layers (at most ``encoder_layers``: decoder layer ``k``
            starts from the ``k``-th of the encoder's top ``decoder_layers`` layers).
        attention: ``"additive"``, ``"dot"``, ``"general"`` or ``"none"`` (plain encoder-decoder).
        attention_size: hidden width of the additive score (default: the key width ``D·H``).
        input_feed: feed :math:`\tilde h_{t-1}` to the decoder's input (Luong et al. 2015, §3.3);
            ignored without attention.
        tie_embeddings: share the target embeddings with the output layer (Press & Wolf 2017).
        dropout: on embeddings, between stacked layers, and before the output layer.
        label_smoothing: ``ε`` of the smoothed cross-entropy (Szegedy et al. 2016).
        sampling_ratio: scheduled sampling (Bengio et al. 2015): in training, the chance that
            each previous token fed to the decoder is the model's own best guess, not the gold one.
    """

    embedding_dim: int = 128
    mode: str = "lstm"
    hidden_size: int = 256
    encoder_layers: int = 1
    bidirectional: bool = True
    decoder_hidden_size: int | None = None
    decoder_layers: int = 1
    attention: str = "additive"
    attention_size: int | None = None
    input_feed: bool = True
    tie_embeddings: bool = False
    dropout: float = 0.2
    label_smoothing: float = 0.0
    sampling_ratio: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("lstm", "gru"):
            raise ConfigError(f"model.mode must be 'lstm' or 'gru', got {self.mode!r}")
        if self.attention not in ATTENTIONS:
            raise ConfigError(f"model.attention must be one of {', '.join(ATTENTIONS)}")
        sizes = (self.embedding_dim, self.hidden_size, self.decoder_size)
        if min(*sizes, self.encoder_layers, self.decoder_layers) < 1:
            raise ConfigError("model sizes and layer counts must be >= 1")
        if self.decoder_layers > self.encoder_layers:
            raise ConfigError("model.decoder_layers may not exceed model.encoder_layers")
        for name in ("dropout", "label_smoothing", "sampling_ratio"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"model.{name} must be in [0, 1)")

    @property
    def decoder_size(self) -> int:
        """``H'``: ``decoder_hidden_size``, or ``hidden_size`` where that is ``None``."""
        return self.hidden_size if self.decoder_hidden_size is None else self.decoder_hidden_size


@dataclass(frozen=True)
class PairBatch:
    """A batch of translation pairs.

    Shape:
        - src_ids: ``(B, S)`` padded with 0; src_lengths ``(B,)``.
        - tgt_in: ``(B, T)``: ``<bos> y_1 … y_n``, padded with 0.
        - tgt_out: ``(B, T)``: ``y_1 … y_n <eos>``, padded with 0 (ignored by the loss).
        - index: ``(B,)`` each row's position in the list of pairs it was cut from.
    """

    src_ids: Tensor
    src_lengths: Tensor
    tgt_in: Tensor
    tgt_out: Tensor
    index: Tensor

    def __len__(self) -> int:
        return int(self.src_ids.shape[0])


class Memory(NamedTuple):
    """The encoder's output that attention reads: ``keys`` ``(B, S, D·H)``, ``mask`` ``(B, S)``
    (true at real tokens), ``projected`` keys (:meth:`Attention.precompute`) or ``None``."""

    keys: Tensor
    mask: Tensor
    projected: Tensor | None


class DecoderState(NamedTuple):
    """The decoder RNN's state (``(L', B, H')`` or an :class:`LSTMState` of two) and the last
    attentional vector :math:`\\tilde h_{t-1}` ``(B, O)`` for input feeding."""

    rnn: RnnState
    feed: Tensor


class StepOutput(NamedTuple):
    """One decoder step: ``logits`` ``(B, V)``, the next state, attention ``(B, S)`` or ``None``."""

    logits: Tensor
    state: DecoderState
    weights: Tensor | None


@dataclass(frozen=True)
class Seq2SeqOutput:
    """``logits`` ``(B, T, V)``; ``loss`` (mean over real target tokens); ``attention``
    ``(B, T, S)`` or ``None`` without attention."""

    logits: Tensor
    loss: Tensor
    attention: Tensor | None


def reorder_state(state: DecoderState, index: Tensor) -> DecoderState:
    """Rows ``index`` of a decoder state (beam search: follow each hypothesis's parent)."""
    rnn = state.rnn
    if isinstance(rnn, LSTMState):
        moved: RnnState = LSTMState(rnn.h.index_select(1, index), rnn.c.index_select(1, index))
    else:
        moved = rnn.index_select(1, index)
    return DecoderState(moved, state.feed.index_select(0, index))


class Encoder(nn.Module):
    """Source ids ``(B, S)`` → states ``(B, S, D·H)`` (zero at padding) and the final state.

    Args:
        embedder: ids to ``(B, S, E)``.
        rnn: a batch-first :class:`~rnnkit.nn.RNN`; padded batches run packed (``lengths``).
    """

    def __init__(self, embedder: Embedder, rnn: RNN) -> None:
        super().__init__()
        if embedder.output_size != rnn.input_size or not rnn.batch_first:
            raise ConfigError("the encoder RNN must be batch-first and read the embedder's output")
        self.embedder, self.rnn = embedder, rnn
        self.output_size: int = rnn.output_size

    def forward(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, RnnState]:
        states, final = self.rnn(self.embedder(ids), lengths)
        return states, final


class Bridge(nn.Module):
    """The encoder's final states ``(L·D, B, H)`` → the decoder's first state ``(L', B, H')``.

    Each decoder layer reads the concatenated final states of both directions of one of the
    encoder's top ``L'`` layers: :math:`h'_k = \\tanh(W_h [\\overrightarrow{h}_k;
    \\overleftarrow{h}_k])`, and for the LSTM a linear :math:`c'_k = W_c [\\overrightarrow{c}_k;
    \\overleftarrow{c}_k]`.
    """

    def __init__(
        self,
        mode: str,
        encoder_hidden: int,
        directions: int,
        encoder_layers: int,
        decoder_hidden: int,
        decoder_layers: int,
    ) -> None:
        super().__init__()
        self.lstm = has_cell_state(mode)
        self.directions, self.encoder_layers = directions, encoder_layers
        self.decoder_layers = decoder_layers
        self.h = nn.Linear(directions * encoder_hidden, decoder_hidden)
        self.c = nn.Linear(directions * encoder_hidden, decoder_hidden) if self.lstm else None

    def _top(self, x: Tensor) -> Tensor:
        _, batch, hidden = x.shape
        x = x.view(self.encoder_layers, self.directions, batch, hidden)[-self.decoder_layers :]
        return x.permute(0, 2, 1, 3).reshape(self.decoder_layers, batch, -1)  # (L', B, D·H)

    def forward(self, final: RnnState) -> RnnState:
        if isinstance(final, LSTMState):
            assert self.c is not None
            return LSTMState(torch.tanh(self.h(self._top(final.h))), self.c(self._top(final.c)))
        return torch.tanh(self.h(self._top(final)))


class Decoder(nn.Module):
    """The decoder's parts: target embedder, RNN, the attentional layer :math:`W_c` and the output
    layer :math:`W_s` (module docstring). :class:`Seq2Seq` runs them.

    Args:
        embedder: target ids to ``(B, T, E)``.
        rnn: batch-first, input ``E`` (``E + O`` with ``input_feed``).
        context_size: width of the attention context (0 without attention).
        output_size: ``O``, width of :math:`\\tilde h_t`.
        input_feed: feed :math:`\\tilde h_{t-1}` to the RNN input.
        tie_embeddings: :math:`W_s` is the embedding matrix (needs ``O == E``).
        dropout: before the output layer.
    """

    def __init__(
        self,
        embedder: Embedder,
        rnn: RNN,
        context_size: int,
        output_size: int,
        input_feed: bool,
        tie_embeddings: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        expected = embedder.output_size + (output_size if input_feed else 0)
        if rnn.input_size != expected or not rnn.batch_first or rnn.bidirectional:
            raise ConfigError(
                f"the decoder RNN must be unidirectional, batch-first, with input_size {expected}"
            )
        self.embedder, self.rnn, self.input_feed = embedder, rnn, input_feed
        self.combine = nn.Linear(context_size + rnn.hidden_size, output_size, bias=False)
        self.dropout = nn.Dropout(dropout)
        vocab_size = embedder.input_size
        self.generator = nn.Linear(output_size, vocab_size)
        if tie_embeddings:
            if output_size != embedder.output_size:
                raise ConfigError(f"tied embeddings need output_size == {embedder.output_size}")
            self.generator.weight = self.embedder.embedding.weight
        self.output_size = output_size
        self.vocab_size = vocab_size

    def attentional(self, h: Tensor, context: Tensor | None) -> Tensor:
        """:math:`\\tilde h = \\tanh(W_c [c; h])`, ``(B, [T,] O)``."""
        return torch.tanh(self.combine(h if context is None else torch.cat([context, h], -1)))

    def logits(self, h_tilde: Tensor) -> Tensor:
        """:math:`W_s \\tilde h` ``(B, [T,] V)``."""
        return self.generator(self.dropout(h_tilde))  # type: ignore[no-any-return]


class Seq2Seq(nn.Module):
    """Encoder, bridge, decoder and (optional) attention, as in the module docstring.

    Args:
        encoder: source to states and final state.
        decoder: the decoder's parts.
        attention: :class:`~rnnkit.nn.attention.Attention` with ``query_size`` the decoder's
            hidden size and ``key_size`` the encoder's output size, or ``None``.
        bridge: encoder final state to decoder first state.
        label_smoothing: ``ε`` of the loss.
        sampling_ratio: scheduled-sampling probability in training.

    Shape:
        - batch: a :class:`PairBatch`.
        - output: :class:`Seq2SeqOutput`.
    """

    def __init__(
        self,
        encoder: Encoder,
        decoder: Decoder,
        attention: Attention | None,
        bridge: Bridge,
        label_smoothing: float = 0.0,
        sampling_ratio: float = 0.0,
    ) -> None:
        super().__init__()
        context = 0 if attention is None else attention.key_size
        if decoder.combine.in_features != context + decoder.rnn.hidden_size:
            raise ConfigError("the decoder's W_c does not fit the attention context size")
        if attention is not None and (
            attention.key_size != encoder.output_size
            or attention.query_size != decoder.rnn.hidden_size
        ):
            raise ConfigError(
                f"attention must have key_size {encoder.output_size} (encoder) and query_size "
                f"{decoder.rnn.hidden_size} (decoder)"
            )
        self.encoder, self.decoder, self.attention, self.bridge = (
            encoder,
            decoder,
            attention,
            bridge,
        )
        self.label_smoothing, self.sampling_ratio = label_smoothing, sampling_ratio

    def encode(self, src_ids: Tensor, src_lengths: Tensor) -> tuple[Memory, DecoderState]:
        """Run the encoder; return what attention reads and the decoder's first state."""
        keys, final = self.encoder(src_ids, src_lengths)
        mask = length_mask(src_lengths, src_ids.shape[1])
        projected = self.attention.precompute(keys) if self.attention is not None else None
        feed = keys.new_zeros(keys.shape[0], self.decoder.output_size)
        return Memory(keys, mask, projected), DecoderState(self.bridge(final), feed)

    def step(self, prev: Tensor, state: DecoderState, memory: Memory) -> StepOutput:
        """One decoder step from the previous tokens ``prev`` ``(B,)``."""
        x = self.decoder.embedder(prev.unsqueeze(1))  # (B, 1, E)
        if self.decoder.input_feed:
            x = torch.cat([x, state.feed.unsqueeze(1)], dim=2)
        out, rnn_state = self.decoder.rnn(x, state=state.rnn)
        h = out.squeeze(1)  # (B, H')
        context, weights = None, None
        if self.attention is not None:
            context, weights = self.attention(h, memory.keys, memory.mask, memory.projected)
        h_tilde = self.decoder.attentional(h, context)
        return StepOutput(self.decoder.logits(h_tilde), DecoderState(rnn_state, h_tilde), weights)

    def forward(self, batch: PairBatch) -> Seq2SeqOutput:
        memory, state = self.encode(batch.src_ids, batch.src_lengths)
        sampling = self.training and self.sampling_ratio > 0.0
        if self.decoder.input_feed or sampling:
            logits, attention = self._teacher_force_steps(batch.tgt_in, memory, state, sampling)
        else:
            logits, attention = self._teacher_force_parallel(batch.tgt_in, memory, state)
        loss = F.cross_entropy(
            logits.float().flatten(0, 1),
            batch.tgt_out.flatten(),
            ignore_index=0,
            label_smoothing=self.label_smoothing,
        )
        return Seq2SeqOutput(logits, loss, attention)

    def _teacher_force_parallel(
        self, tgt_in: Tensor, memory: Memory, state: DecoderState
    ) -> tuple[Tensor, Tensor | None]:
        out, _ = self.decoder.rnn(self.decoder.embedder(tgt_in), state=state.rnn)  # (B, T, H')
        context, weights = None, None
        if self.attention is not None:
            context, weights = self.attention(out, memory.keys, memory.mask, memory.projected)
        return self.decoder.logits(self.decoder.attentional(out, context)), weights

    def _teacher_force_steps(
        self, tgt_in: Tensor, memory: Memory, state: DecoderState, sampling: bool
    ) -> tuple[Tensor, Tensor | None]:
        logits: list[Tensor] = []
        weights: list[Tensor] = []
        prev = tgt_in[:, 0]
        for t in range(tgt_in.shape[1]):
            if t > 0:
                prev = tgt_in[:, t]
                if sampling:
                    guess = logits[-1].detach().argmax(-1)
                    coin = torch.rand(prev.shape, device=prev.device) < self.sampling_ratio
                    prev = torch.where(coin & (prev != 0), guess, prev)
            step = self.step(prev, state, memory)
            state = step.state
            logits.append(step.logits)
            if step.weights is not None:
                weights.append(step.weights)
        return torch.stack(logits, 1), torch.stack(weights, 1) if weights else None


def build_seq2seq(config: Seq2SeqConfig, src_vocab_size: int, tgt_vocab_size: int) -> Seq2Seq:
    """A :class:`Seq2Seq` as ``config`` says, for vocabularies of the given sizes."""
    c = config
    d = 2 if c.bidirectional else 1
    src_embedder = Embedder(src_vocab_size, c.embedding_dim, 0, dropout=c.dropout)
    between = c.dropout if c.encoder_layers > 1 else 0.0  # dropout between stacked layers
    encoder_rnn = RNN(
        c.mode, c.embedding_dim, c.hidden_size, c.encoder_layers, c.bidirectional, between
    )
    encoder = Encoder(src_embedder, encoder_rnn)
    attention = None
    if c.attention != "none":
        attention = Attention(c.attention, c.decoder_size, d * c.hidden_size, c.attention_size)
    output_size = c.embedding_dim if c.tie_embeddings else c.decoder_size
    input_feed = c.input_feed and attention is not None
    decoder_input = c.embedding_dim + (output_size if input_feed else 0)
    decoder = Decoder(
        Embedder(tgt_vocab_size, c.embedding_dim, 0, dropout=c.dropout),
        RNN(
            c.mode,
            decoder_input,
            c.decoder_size,
            c.decoder_layers,
            dropout=c.dropout if c.decoder_layers > 1 else 0.0,
        ),
        0 if attention is None else attention.key_size,
        output_size,
        input_feed,
        c.tie_embeddings,
        c.dropout,
    )
    bridge = Bridge(c.mode, c.hidden_size, d, c.encoder_layers, c.decoder_size, c.decoder_layers)
    return Seq2Seq(encoder, decoder, attention, bridge, c.label_smoothing, c.sampling_ratio)
