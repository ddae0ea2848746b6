r"""The transducer as a language model: predict token ``t+1`` from tokens ``1..t``.

.. math::
    e_t = E[w_t], \qquad (y_t, s_t) = \mathrm{RNN}(e_t, s_{t-1}), \qquad
    p(w_{t+1} \mid w_{1:t}) = \mathrm{softmax}(W y_t + b)

(Mikolov et al. 2010; Zaremba et al. 2014). Dropout is on the embeddings, between the layers
and on the outputs (Zaremba et al. 2014; locked, one mask per sequence, on embeddings and
outputs as Gal & Ghahramani 2016); word dropout drops whole word types (Merity et al. 2017).
With ``tie_weights`` the output matrix ``W`` is the embedding matrix ``E`` (Press & Wolf 2017;
Inan et al. 2017); a linear projection ``H → E`` is added when the widths differ.

A conditional generator (one-to-many, Goldberg 2017 §14.3): with ``num_conditions > 0`` a
condition id (a label) is embedded and mapped to the initial state ``s_0 = tanh(U c + u)``
of every layer (``h`` and, for the LSTM, ``c``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.nn import RNN, LockedDropout, LSTMState, embedding_dropout, has_cell_state
from rnnkit.nn.recurrent import State

__all__ = ["LMConfig", "LMOutput", "LanguageModel", "build_language_model"]


@dataclass(frozen=True)
class LMConfig:
    """Every option of the language model (saved under ``model`` in a run's ``config.json``).

    Args:
        level: ``"word"`` (whitespace tokens, ``<eos>`` after each line) or ``"char"``.
        embedding_dim: ``E``.
        embeddings: word vectors that start the embedding table (a file or a named set, as
            the classifier's ``model.embeddings``; their width must be ``E``); ``None``: random.
        mode: the RNN cell (``"lstm"``, ``"gru"``, ``"elman"``).
        hidden_size: ``H``.
        num_layers: stacked layers.
        dropout: dropout between the RNN layers (Zaremba et al. 2014).
        embedding_dropout: locked dropout on the embeddings.
        output_dropout: locked dropout on the last layer's outputs.
        word_dropout: drop whole word types from the embedding table (Merity et al. 2017).
        tie_weights: share the input and output embeddings (Press & Wolf 2017).
        init_range: weights and embeddings start uniform in ``±init_range`` (Zaremba: 0.1);
            ``0`` keeps PyTorch's initialisation.
        softmax: ``"full"``, or ``"adaptive"`` (Grave et al. 2017: frequent words in a head,
            rare ones in clusters of narrower projections; an exact distribution, several
            times cheaper on CPU); needs a vocabulary sorted by frequency.
        cutoffs: the adaptive softmax's cluster boundaries (ids), increasing, below ``V``.
        adaptive_div: each tail cluster's projection is this many times narrower.
        condition: ``"label"`` trains a label-conditioned generator on a classification file;
            ``None`` an ordinary language model.
        condition_dim: width of the condition embedding.
    """

    level: Literal["word", "char"] = "word"
    embedding_dim: int = 200
    embeddings: str | None = None
    mode: str = "lstm"
    hidden_size: int = 200
    num_layers: int = 2
    dropout: float = 0.0
    embedding_dropout: float = 0.0
    output_dropout: float = 0.0
    word_dropout: float = 0.0
    tie_weights: bool = False
    init_range: float = 0.1
    softmax: Literal["full", "adaptive"] = "full"
    cutoffs: tuple[int, ...] = (2000,)
    adaptive_div: float = 4.0
    condition: Literal["label"] | None = None
    condition_dim: int = 32

    def __post_init__(self) -> None:
        if self.level not in ("word", "char"):
            raise ConfigError("model.level must be 'word' or 'char'")
        if self.condition not in (None, "label"):
            raise ConfigError("model.condition must be 'label' or none")
        for name in ("dropout", "embedding_dropout", "output_dropout", "word_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"model.{name} must be in [0, 1)")
        sizes = (self.embedding_dim, self.hidden_size, self.num_layers, self.condition_dim)
        if min(sizes) < 1:
            raise ConfigError(
                "model.embedding_dim, hidden_size, num_layers and condition_dim must be >= 1"
            )
        if self.init_range < 0:
            raise ConfigError("model.init_range must be >= 0")
        if self.softmax not in ("full", "adaptive"):
            raise ConfigError("model.softmax must be 'full' or 'adaptive'")
        if self.softmax == "adaptive" and self.tie_weights:
            raise ConfigError("model.tie_weights needs model.softmax='full'")
        if list(self.cutoffs) != sorted(set(self.cutoffs)) or min(self.cutoffs, default=1) < 1:
            raise ConfigError("model.cutoffs must be increasing positive ids")


@dataclass(frozen=True)
class LMOutput:
    """``hidden`` ``(B, T, F)``, the vectors the softmax reads (:meth:`LanguageModel.log_probs`
    turns them into ``(B, T, V)``); ``loss``, the mean token cross-entropy in nats, when targets
    were given; ``state``, the final recurrent state (to carry into the next chunk)."""

    hidden: Tensor
    loss: Tensor | None
    state: State


class LanguageModel(nn.Module):
    """Embedding → stacked :class:`~rnnkit.nn.RNN` → (projection) → softmax over ``V``.

    Args:
        config: the options (see :class:`LMConfig`).
        vocab_size: ``V``.
        num_conditions: labels of a conditional generator (``0``: unconditional).

    Shape:
        - ids: ``(B, T)`` int64 in ``0..V-1``.
        - targets: ``(B, T)``, the next ids; positions equal to ``ignore_index`` are skipped.
        - state: ``(h, c)`` of shape ``(L, B, H)`` each for the LSTM, ``h`` otherwise; ``None``
          for zeros, or the initial state of ``condition``.
        - condition: ``(B,)`` condition ids (conditional models only, used when ``state`` is None).
        - output: :class:`LMOutput`, hidden ``(B, T, F)``.
    """

    def __init__(self, config: LMConfig, vocab_size: int, num_conditions: int = 0) -> None:
        super().__init__()
        c = config
        if vocab_size < 2:
            raise ConfigError(f"a language model needs at least 2 vocabulary entries: {vocab_size}")
        if (c.condition is not None) != (num_conditions > 0):
            raise ConfigError("model.condition='label' needs labels, and labels need it")
        self.config, self.vocab_size, self.num_conditions = c, vocab_size, num_conditions
        self.embedding = nn.Embedding(vocab_size, c.embedding_dim)
        self.embedding_drop = LockedDropout(c.embedding_dropout)
        between = c.dropout if c.num_layers > 1 else 0.0
        self.rnn = RNN(c.mode, c.embedding_dim, c.hidden_size, c.num_layers, dropout=between)
        self.output_drop = LockedDropout(c.output_dropout)
        self.projection: nn.Linear | None = None
        width = c.hidden_size
        if c.tie_weights and c.hidden_size != c.embedding_dim:
            self.projection = nn.Linear(c.hidden_size, c.embedding_dim)
            width = c.embedding_dim
        self.decoder: nn.Linear | None = None
        self.adaptive: nn.AdaptiveLogSoftmaxWithLoss | None = None
        if c.softmax == "adaptive":
            cutoffs = [k for k in c.cutoffs if k < vocab_size - 1]
            if not cutoffs:
                raise ConfigError(f"model.cutoffs {c.cutoffs} leave no tail below V={vocab_size}")
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(
                width, vocab_size, cutoffs, div_value=c.adaptive_div
            )
        else:
            self.decoder = nn.Linear(width, vocab_size)
            if c.tie_weights:
                self.decoder.weight = self.embedding.weight
        self.condition_embedding: nn.Embedding | None = None
        self.condition_to_state: nn.Linear | None = None
        if num_conditions > 0:
            parts = 2 if has_cell_state(c.mode) else 1
            self.condition_embedding = nn.Embedding(num_conditions, c.condition_dim)
            self.condition_to_state = nn.Linear(
                c.condition_dim, parts * c.num_layers * c.hidden_size
            )
        if c.init_range > 0:
            self._init_uniform(c.init_range)

    def _init_uniform(self, r: float) -> None:
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith(("embedding", "rnn", "decoder.weight")):
                    p.uniform_(-r, r)
            if self.decoder is not None:
                self.decoder.bias.zero_()

    def initial_state(self, condition: Tensor) -> State:
        """``s_0`` of each sequence from its condition ids ``(B,)``: ``(L, B, H)`` tensors."""
        if self.condition_embedding is None or self.condition_to_state is None:
            raise ConfigError("this language model is not conditional")
        c = self.config
        flat = torch.tanh(self.condition_to_state(self.condition_embedding(condition)))
        parts = flat.view(condition.shape[0], -1, c.num_layers, c.hidden_size)
        tensors = parts.permute(1, 2, 0, 3).contiguous()  # (parts, L, B, H)
        return LSTMState(tensors[0], tensors[1]) if has_cell_state(c.mode) else tensors[0]

    def forward(
        self,
        ids: Tensor,
        targets: Tensor | None = None,
        state: State | None = None,
        condition: Tensor | None = None,
        ignore_index: int = -100,
    ) -> LMOutput:
        if ids.dim() != 2:
            raise ShapeError(f"language model input must be (B, T) ids, got {tuple(ids.shape)}")
        if state is None and self.num_conditions > 0:
            if condition is None:
                raise ConfigError("a conditional language model needs condition ids")
            state = self.initial_state(condition)
        if self.training and self.config.word_dropout > 0:
            embedded = embedding_dropout(self.embedding.weight, ids, self.config.word_dropout)
        else:
            embedded = self.embedding(ids)
        outputs, final = self.rnn(self.embedding_drop(embedded), state=state)  # (B, T, H)
        hidden = self.output_drop(outputs)
        if self.projection is not None:
            hidden = self.projection(hidden)
        loss = None
        if targets is not None:
            if targets.shape != ids.shape:
                raise ShapeError(
                    f"targets {tuple(targets.shape)} must match ids {tuple(ids.shape)}"
                )
            keep = targets != ignore_index
            logp = self.target_log_probs(hidden[keep], targets[keep])
            loss = -logp.mean()
        return LMOutput(hidden, loss, final)

    def log_probs(self, hidden: Tensor) -> Tensor:
        """``log p(w | ·)`` over the whole vocabulary: ``(..., F)`` to ``(..., V)``, float32."""
        flat = hidden.reshape(-1, hidden.shape[-1])
        if self.adaptive is not None:
            out = self.adaptive.log_prob(flat.float())
        else:
            assert self.decoder is not None
            out = torch.log_softmax(self.decoder(flat).float(), dim=-1)
        return out.view(*hidden.shape[:-1], self.vocab_size)

    def target_log_probs(self, hidden: Tensor, targets: Tensor) -> Tensor:
        """``log p(target | ·)`` of each position: ``(N, F)`` and ``(N,)`` to ``(N,)``, float32."""
        if self.adaptive is not None:
            return self.adaptive(hidden.float(), targets).output  # type: ignore[no-any-return]
        assert self.decoder is not None
        logits = self.decoder(hidden).float()
        return -F.cross_entropy(logits, targets, reduction="none")


def build_language_model(
    config: LMConfig, vocab_size: int, num_conditions: int = 0
) -> LanguageModel:
    """A :class:`LanguageModel` as ``config`` says (weights from the global generator)."""
    return LanguageModel(config, vocab_size, num_conditions)
