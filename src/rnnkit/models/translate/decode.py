r"""Decoding a :class:`~.model.Seq2Seq`: greedy search and batched beam search.

Both stop a sentence at ``<eos>`` or at its own maximum length, ``ceil(ratio · n + offset)`` for a
source of ``n`` tokens, and never emit ``<pad>`` or ``<bos>``.

**Greedy search** takes the most probable token at every step.

**Beam search** (Sutskever et al. 2014, §3.2; Koehn 2017, §13.3.2) keeps the ``K`` best partial
translations ("hypotheses") of every sentence. At each step:

1. every alive hypothesis proposes every next token; a candidate's score is its parent's
   log-probability plus the token's: :math:`\log p(y_{1:t}) = \log p(y_{1:t-1}) + \log p(y_t)`;
2. the ``2K`` best candidates of the sentence are taken in score order (``2K`` so that ``K``
   remain even when up to ``K`` of them end the sentence);
3. a candidate ending with ``<eos>`` among the first ``K`` is *finished*; the best ``K`` others
   stay alive (at the maximum length, the first ``K`` candidates are all finished);
4. a sentence is done once it has ``K`` finished hypotheses (the stopping rule of fairseq).

The result is the finished hypothesis with the best length-normalised score
:math:`\log p(y) / \mathrm{lp}(y)`, :math:`\mathrm{lp}(y) = ((5 + |y|) / 6)^\alpha` (Wu et al.
2016, §7; ``|y|`` counts ``<eos>``; ``α = 0`` is the raw log-probability). With ``K = 1`` this is
greedy search, token for token. All sentences of a batch are searched together as ``B·K`` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.models.translate.model import Memory, Seq2Seq, reorder_state

__all__ = ["Hypothesis", "beam_search", "greedy_search", "length_penalty", "max_target_lengths"]


@dataclass(frozen=True)
class Hypothesis:
    """A translation: target ``tokens`` (ids, without ``<eos>``), their summed log-probability
    ``score`` (with ``<eos>`` when it was emitted), its length-normalised ``normalized`` score,
    and ``attention`` ``(steps, n)`` over the ``n`` source tokens (a row per emitted token,
    ``<eos>`` included) or ``None`` for a model without attention."""

    tokens: list[int]
    score: float
    normalized: float
    attention: Tensor | None


def max_target_lengths(src_lengths: Tensor, ratio: float, offset: int) -> list[int]:
    """``ceil(ratio · n + offset)`` for each source length ``n`` (at least 1)."""
    if ratio < 0 or (ratio == 0 and offset < 1):
        raise ConfigError("the maximum target length ratio · n + offset must be positive")
    return [max(1, math.ceil(ratio * int(n) + offset)) for n in src_lengths.tolist()]


def length_penalty(length: int, alpha: float) -> float:
    """GNMT's :math:`((5 + |y|) / 6)^\\alpha` (Wu et al. 2016, eq. 14)."""
    return float(((5.0 + length) / 6.0) ** alpha)


def _log_probs(logits: Tensor, bos: int) -> Tensor:
    """Log-softmax over the vocabulary with ``<pad>`` (0) and ``<bos>`` forbidden."""
    logits = logits.float().clone()
    logits[:, 0] = float("-inf")
    logits[:, bos] = float("-inf")
    return torch.log_softmax(logits, dim=-1)


def _hypothesis(
    tokens: list[int], score: float, eos: int, alpha: float, attention: Tensor | None
) -> Hypothesis:
    ended = bool(tokens) and tokens[-1] == eos
    words = tokens[:-1] if ended else tokens
    return Hypothesis(words, score, score / length_penalty(len(tokens), alpha), attention)


@torch.inference_mode()
def greedy_search(
    model: Seq2Seq, src_ids: Tensor, src_lengths: Tensor, bos: int, eos: int, max_lengths: list[int]
) -> list[Hypothesis]:
    """The most probable token at every step, for a batch of sources.

    Shape:
        - src_ids: ``(B, S)``; src_lengths ``(B,)``; ``max_lengths``: ``B`` integers.
        - output: ``B`` hypotheses, in batch order.
    """
    model.eval()
    batch = src_ids.shape[0]
    memory, state = model.encode(src_ids, src_lengths)
    prev = torch.full((batch,), bos, dtype=torch.long, device=src_ids.device)
    tokens: list[list[int]] = [[] for _ in range(batch)]
    rows: list[list[Tensor]] = [[] for _ in range(batch)]
    scores = [0.0] * batch
    done = [False] * batch
    for t in range(max(max_lengths)):
        out = model.step(prev, state, memory)
        best_score, prev = _log_probs(out.logits, bos).max(dim=-1)
        state = out.state
        for b in range(batch):
            if done[b]:
                continue
            tokens[b].append(int(prev[b]))
            scores[b] += float(best_score[b])
            if out.weights is not None:
                rows[b].append(out.weights[b, : int(src_lengths[b])])
            done[b] = tokens[b][-1] == eos or t + 1 == max_lengths[b]
        if all(done):
            break
    return [
        _hypothesis(tokens[b], scores[b], eos, 0.0, torch.stack(rows[b]) if rows[b] else None)
        for b in range(batch)
    ]


def _expand(memory: Memory, index: Tensor) -> Memory:
    projected = memory.projected.index_select(0, index) if memory.projected is not None else None
    return Memory(memory.keys.index_select(0, index), memory.mask.index_select(0, index), projected)


@dataclass
class _Beams:
    """The search state of ``B`` sentences with ``K`` hypotheses each; row ``b·K + j`` of every
    tensor is hypothesis ``j`` of sentence ``b``."""

    k: int
    eos: int
    alpha: float
    max_lengths: list[int]
    src_lengths: list[int]
    scores: Tensor  # (B, K) log-probabilities of the alive hypotheses (-inf: empty slot)
    history: Tensor  # (B·K, t) their tokens
    attention: Tensor | None = None  # (B·K, t, S) their attention rows
    finished: list[list[Hypothesis]] = field(default_factory=list)
    active: list[bool] = field(default_factory=list)

    def finish(self, b: int, parent: int, token: int, score: float) -> None:
        """Hypothesis ``parent`` + ``token`` of sentence ``b`` is complete."""
        tokens = [*self.history[parent].tolist(), token]
        rows = None
        if self.attention is not None:
            rows = self.attention[parent, :, : self.src_lengths[b]]
        self.finished[b].append(_hypothesis(tokens, score, self.eos, self.alpha, rows))

    def select(self, t: int, top_scores: Tensor, parents: Tensor, tokens: Tensor) -> Tensor:
        """Steps 3–4 of the module docstring for step ``t`` from each sentence's ``2K`` best
        candidates ``(B, 2K)``; return the parent row of each new alive hypothesis ``(B·K,)``
        and make ``tokens``, ``scores``, ``history`` and ``attention`` theirs."""
        batch, k = self.scores.shape
        keep_rows = torch.arange(batch * k, device=parents.device)
        keep_tokens = torch.full_like(keep_rows, self.eos)
        self.scores = torch.full_like(self.scores, float("-inf"))
        for b in range(batch):
            if not self.active[b]:
                continue
            alive = 0
            for j in range(top_scores.shape[1]):
                score = float(top_scores[b, j])
                if score == float("-inf") or alive == k:
                    break
                parent, token = int(parents[b, j]), int(tokens[b, j])
                if token == self.eos or t + 1 == self.max_lengths[b]:
                    if j < k:
                        self.finish(b, parent, token, score)
                    continue
                keep_rows[b * k + alive], keep_tokens[b * k + alive] = parent, token
                self.scores[b, alive] = score
                alive += 1
            done = len(self.finished[b]) >= k or t + 1 >= self.max_lengths[b]
            self.active[b] = alive > 0 and not done
        self.history = torch.cat(
            [self.history.index_select(0, keep_rows), keep_tokens.unsqueeze(1)], 1
        )
        if self.attention is not None:
            self.attention = self.attention.index_select(0, keep_rows)
        return keep_rows


@torch.inference_mode()
def beam_search(
    model: Seq2Seq,
    src_ids: Tensor,
    src_lengths: Tensor,
    bos: int,
    eos: int,
    max_lengths: list[int],
    beam_size: int = 5,
    alpha: float = 0.0,
) -> list[Hypothesis]:
    """Batched beam search (module docstring); the best hypothesis of each source.

    Shape:
        - src_ids: ``(B, S)``; src_lengths ``(B,)``; ``max_lengths``: ``B`` integers.
        - output: ``B`` hypotheses, in batch order.
    """
    if beam_size < 1:
        raise ConfigError(f"beam size must be >= 1, got {beam_size}")
    model.eval()
    batch, k, device = src_ids.shape[0], beam_size, src_ids.device
    memory, state = model.encode(src_ids, src_lengths)
    rows = torch.arange(batch, device=device).repeat_interleave(k)
    memory, state = _expand(memory, rows), reorder_state(state, rows)
    scores = torch.full((batch, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one alive hypothesis (the empty one) per sentence at the start
    beams = _Beams(
        k, eos, alpha, max_lengths, src_lengths.tolist(), scores,
        history=torch.empty((batch * k, 0), dtype=torch.long, device=device),
        finished=[[] for _ in range(batch)], active=[True] * batch,
    )  # fmt: skip
    prev = torch.full((batch * k,), bos, dtype=torch.long, device=device)
    for t in range(max(max_lengths)):
        out = model.step(prev, state, memory)
        log_probs = _log_probs(out.logits, bos)  # (B·K, V)
        vocab = log_probs.shape[1]
        candidates = (beams.scores.view(-1, 1) + log_probs).view(batch, k * vocab)
        top_scores, top_ids = candidates.topk(min(2 * k, k * vocab), dim=1)  # (B, 2K)
        parents = top_ids // vocab + torch.arange(batch, device=device).unsqueeze(1) * k
        if out.weights is not None:
            rows_t = out.weights.unsqueeze(1)  # (B·K, 1, S)
            beams.attention = (
                rows_t if beams.attention is None else torch.cat([beams.attention, rows_t], 1)
            )
        keep_rows = beams.select(t, top_scores, parents, top_ids % vocab)
        if not any(beams.active):
            break
        state = reorder_state(out.state, keep_rows)
        prev = beams.history[:, -1]
    return [max(hyps, key=lambda h: h.normalized) for hyps in beams.finished]
