r"""A linear-chain conditional random field over tag sequences (Lafferty et al. 2001), the output
layer of the BiLSTM-CRF (Huang et al. 2015; Lample et al. 2016, §2.2; Ma & Hovy 2016, §2.3).

A tag sequence :math:`y_{1:n}` of a sentence with emission scores :math:`P` ``(n, K)`` scores

.. math::
    s(x, y) = \pi_{y_1} + \sum_{i=1}^{n} P_{i, y_i} + \sum_{i=2}^{n} A_{y_{i-1}, y_i}
              + \omega_{y_n}

with transition scores :math:`A` ``(K, K)`` and start / end scores :math:`\pi`, :math:`\omega`.
The loss is the negative log-likelihood :math:`\log Z(x) - s(x, y)`, where the partition function
:math:`\log Z = \log \sum_{y'} \exp s(x, y')` comes from the forward algorithm in log space:
:math:`\alpha_1 = \pi + P_1`, :math:`\alpha_i[j] = \mathrm{logsumexp}_k(\alpha_{i-1}[k] + A_{k,j})
+ P_{i,j}`, :math:`\log Z = \mathrm{logsumexp}_j(\alpha_n[j] + \omega_j)`. Viterbi replaces
logsumexp by max and keeps back-pointers.

Everything is batched over sentences and vectorised over tags; the only Python loop runs over
time steps. Padded steps (``mask`` false, always at the end of a row) carry :math:`\alpha`
through unchanged, so a padded batch gives the same numbers as each sentence alone.

Transition constraints (e.g. IOB2's "``I-PER`` only after ``B-PER`` or ``I-PER``", see
:mod:`rnnkit.data.tagschemes`) forbid some transitions: in training they score
:data:`FORBIDDEN` (large but finite, so an invalid gold path gives a large finite loss, not
``inf``), in decoding :math:`-\infty`, so Viterbi never outputs one while a valid path exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError

__all__ = ["CRF", "FORBIDDEN", "Constraints"]

#: Score of a forbidden transition in training.
FORBIDDEN = -1e4


@dataclass(frozen=True)
class Constraints:
    """Allowed transitions as boolean tensors: ``start`` ``(K,)``, ``transitions`` ``(K, K)``
    (``transitions[i, j]``: tag ``j`` may follow tag ``i``), ``end`` ``(K,)``."""

    start: Tensor
    transitions: Tensor
    end: Tensor

    @classmethod
    def none(cls, num_tags: int) -> Constraints:
        """Everything allowed."""
        ones = torch.ones(num_tags, dtype=torch.bool)
        return cls(ones, torch.ones(num_tags, num_tags, dtype=torch.bool), ones.clone())


class CRF(nn.Module):
    """Linear-chain CRF: loss, partition function, gold-path score, Viterbi and n-best decoding.

    Args:
        num_tags: ``K``.
        constraints: allowed transitions (``None``: all allowed).

    Shape:
        - emissions: ``(B, T, K)``, the scores :math:`P` from the encoder.
        - tags: ``(B, T)`` int64 tag ids (any value at padded steps).
        - mask: ``(B, T)`` bool, true at real tokens; each row a non-empty prefix. ``None``: all.
    """

    def __init__(self, num_tags: int, constraints: Constraints | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise ConfigError(f"a CRF needs at least one tag, got {num_tags}")
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        c = constraints or Constraints.none(num_tags)
        shapes = (tuple(c.start.shape), tuple(c.transitions.shape), tuple(c.end.shape))
        if shapes != ((num_tags,), (num_tags, num_tags), (num_tags,)):
            raise ShapeError(f"constraints for {num_tags} tags have shapes {shapes}")
        self.allowed_start: Tensor
        self.allowed_transitions: Tensor
        self.allowed_end: Tensor
        self.register_buffer("allowed_start", c.start.bool().clone(), persistent=False)
        self.register_buffer("allowed_transitions", c.transitions.bool().clone(), persistent=False)
        self.register_buffer("allowed_end", c.end.bool().clone(), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in ``[-0.1, 0.1]``, as pytorch-crf and AllenNLP."""
        for p in (self.transitions, self.start_transitions, self.end_transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def _scores(self, forbidden: float) -> tuple[Tensor, Tensor, Tensor]:
        """``(start (K,), transitions (K, K), end (K,))`` with forbidden entries set."""
        return (
            self.start_transitions.masked_fill(~self.allowed_start, forbidden),
            self.transitions.masked_fill(~self.allowed_transitions, forbidden),
            self.end_transitions.masked_fill(~self.allowed_end, forbidden),
        )

    def _check(self, emissions: Tensor, mask: Tensor | None) -> Tensor:
        if emissions.dim() != 3 or emissions.shape[2] != self.num_tags:
            raise ShapeError(
                f"emissions must be (B, T, {self.num_tags}), got {tuple(emissions.shape)}"
            )
        b, t, _ = emissions.shape
        if t == 0:
            raise ShapeError("emissions have no time steps")
        if mask is None:
            return torch.ones(b, t, dtype=torch.bool, device=emissions.device)
        if tuple(mask.shape) != (b, t):
            raise ShapeError(f"mask must be ({b}, {t}), got {tuple(mask.shape)}")
        mask = mask.bool()
        if not bool(mask[:, 0].all()):
            raise ShapeError("every sequence needs at least one real step (mask[:, 0] all true)")
        return mask

    def forward(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, reduction: str = "mean"
    ) -> Tensor:
        r"""Negative log-likelihood :math:`\log Z(x) - s(x, y)`.

        Args:
            reduction: ``"none"`` ``(B,)``, ``"sum"``, ``"mean"`` (over sentences) or
                ``"token_mean"`` (sum over sentences / real tokens).
        """
        mask = self._check(emissions, mask)
        if tuple(tags.shape) != tuple(mask.shape):
            raise ShapeError(f"tags must be {tuple(mask.shape)}, got {tuple(tags.shape)}")
        nll = self.log_partition(emissions, mask) - self.score(emissions, tags, mask)
        if reduction == "none":
            return nll
        if reduction == "sum":
            return nll.sum()
        if reduction == "mean":
            return nll.mean()
        if reduction == "token_mean":
            return nll.sum() / mask.sum()
        raise ConfigError(f"reduction must be none, sum, mean or token_mean, got {reduction!r}")

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """:math:`s(x, y)` of the tag sequences ``tags``: ``(B,)``."""
        mask = self._check(emissions, mask)
        start, trans, end = self._scores(FORBIDDEN)
        tags = tags.masked_fill(~mask, 0)
        m = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        total = start[tags[:, 0]] + (emit * m).sum(1)
        total = total + (trans[tags[:, :-1], tags[:, 1:]] * m[:, 1:]).sum(1)
        last = tags.gather(1, (mask.sum(1) - 1).unsqueeze(1)).squeeze(1)
        return total + end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        r""":math:`\log Z(x)` by the forward algorithm: ``(B,)``.

        The recursion of :meth:`log_partition_reference`, with each step's logsumexp over the
        previous tag computed as one ``(B, K) × (K, K)`` matrix product in shifted exp space
        (no ``(B, K, K)`` tensor); tested to agree with the reference to 1e-9 in float64.
        """
        mask = self._check(emissions, mask)
        start, trans, end = self._scores(FORBIDDEN)
        # logsumexp_k(alpha[k] + A[k, j]) as a matrix product in shifted exp space:
        # log(exp(alpha - m) @ exp(A - a)) + m + a, one (B, K) x (K, K) product per step
        shift = trans.detach().max()
        exp_trans = (trans - shift).exp()
        tiny = torch.finfo(emissions.dtype).tiny
        full = mask.all(dim=0).tolist()
        alpha = start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            m = alpha.detach().amax(dim=1, keepdim=True)
            mass = torch.mm((alpha - m).exp(), exp_trans).clamp_min(tiny)
            nxt = mass.log() + (m + shift) + emissions[:, t]
            alpha = nxt if full[t] else torch.where(mask[:, t].unsqueeze(1), nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def log_partition_reference(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        r""":math:`\log Z(x)` by the forward algorithm written exactly as the module docstring
        states it: ``(B,)``. The readable reference for :meth:`log_partition` (slower: it forms
        a ``(B, K, K)`` tensor per step).

        .. math::
            \alpha_1[j] &= \pi_j + P_{1,j} \\
            \alpha_i[j] &= \mathrm{logsumexp}_k(\alpha_{i-1}[k] + A_{k,j}) + P_{i,j}
                \qquad (\alpha_i = \alpha_{i-1} \text{ at a padded step } i) \\
            \log Z &= \mathrm{logsumexp}_j(\alpha_n[j] + \omega_j)
        """
        mask = self._check(emissions, mask)
        start, trans, end = self._scores(FORBIDDEN)  # pi (K,), A (K, K), omega (K,)
        alpha = start + emissions[:, 0]  # alpha_1[j], (B, K)
        for i in range(1, emissions.shape[1]):
            # terms[b, k, j] = alpha_{i-1}[k] + A[k, j]; logsumexp over the previous tag k
            terms = alpha.unsqueeze(2) + trans  # (B, K, K)
            nxt = torch.logsumexp(terms, dim=1) + emissions[:, i]  # alpha_i[j], (B, K)
            real = mask[:, i].unsqueeze(1)  # (B, 1), false at padded steps
            alpha = torch.where(real, nxt, alpha)  # a padded step carries alpha through
        return torch.logsumexp(alpha + end, dim=1)  # log Z, (B,)

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        r"""Viterbi: the best tag sequence of each sentence and its score.

        .. math::
            \delta_1(j) = s_j + e_1(j), \qquad
            \delta_t(j) = \max_k \bigl(\delta_{t-1}(k) + A_{kj}\bigr) + e_t(j),

        the best path read back from the argmax pointers. The recursion is ``T`` steps of a few
        small ``(B, K, K)`` operations: in NumPy, on the CPU, each costs about a microsecond
        against several for a torch call, which is most of the time of tagging one sentence.
        The arithmetic is the same float32 as torch's (the scores are the model's dtype).

        Returns:
            ``(tags (B, T) int64, scores (B,))``; tags at padded steps are 0.
        """
        mask_t = self._check(emissions, mask)
        start, trans, end = (x.detach().cpu().numpy() for x in self._scores(float("-inf")))
        e = emissions.detach().cpu().numpy()
        on = mask_t.cpu().numpy()
        b, t_max, k = e.shape
        rows = np.arange(b)
        score = start + e[:, 0]  # (B, K)
        back = np.empty((max(t_max - 1, 0), b, k), dtype=np.int64)  # pointers
        identity = np.broadcast_to(np.arange(k), (b, k))
        full = mask_t.all(dim=0).tolist()  # (T,): steps where no sentence has ended
        for t in range(1, t_max):
            terms = score[:, :, None] + trans  # (B, K previous, K next)
            arg, best = terms.argmax(axis=1), terms.max(axis=1)  # (B, K) over the previous tag
            if full[t]:
                score, back[t - 1] = best + e[:, t], arg
                continue
            real = on[:, t, None]  # (B, 1): a padded step carries the score through
            score = np.where(real, best + e[:, t], score)
            back[t - 1] = np.where(real, arg, identity)  # padded steps point to themselves
        final_all = score + end
        last = final_all.argmax(axis=1)
        path = np.empty((b, t_max), dtype=np.int64)
        path[:, -1] = last
        tag = last
        for t in range(t_max - 2, -1, -1):
            tag = back[t, rows, tag]
            path[:, t] = tag
        path[~on] = 0
        tags = torch.from_numpy(path).to(emissions.device)
        scores = torch.from_numpy(final_all[rows, last]).to(emissions.device)
        return tags, scores

    @torch.no_grad()
    def nbest(self, emissions: Tensor, n: int, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """The ``n`` best tag sequences of each sentence (list Viterbi), best first.

        Returns:
            ``(tags (B, n, T), scores (B, n))``; when a sentence has fewer than ``n`` paths the
            rest score ``-inf``.
        """
        if n < 1:
            raise ConfigError(f"n must be >= 1, got {n}")
        mask = self._check(emissions, mask)
        start, trans, end = self._scores(float("-inf"))
        b, t_max, k = emissions.shape
        dev = emissions.device
        # score[b, j, r]: the r-th best prefix ending in tag j; only rank 0 exists at t = 0
        score = torch.full((b, k, n), float("-inf"), dtype=emissions.dtype, device=dev)
        score[:, :, 0] = start + emissions[:, 0]
        identity = torch.arange(k * n, device=dev).view(1, k, n).expand(b, k, n)
        pointers = []
        for t in range(1, t_max):
            # (B, K·n, K): every (previous tag, rank) extended by every next tag
            cand = (score.unsqueeze(3) + trans.unsqueeze(1)).reshape(b, k * n, k)
            best, arg = cand.topk(n, dim=1)  # (B, n, K)
            best, arg = best.transpose(1, 2), arg.transpose(1, 2)  # (B, K, n)
            on = mask[:, t].view(b, 1, 1)
            score = torch.where(on, best + emissions[:, t].unsqueeze(2), score)
            pointers.append(torch.where(on, arg, identity))
        final, flat = (score + end.view(1, k, 1)).reshape(b, k * n).topk(n, dim=1)  # (B, n)
        path = [flat // n]
        for arg in reversed(pointers):
            flat = arg.reshape(b, k * n).gather(1, flat)
            path.append(flat // n)
        tags = torch.stack(path[::-1], dim=2)  # (B, n, T)
        return tags.masked_fill(~mask.unsqueeze(1), 0), final

    def extra_repr(self) -> str:
        forbidden = int((~self.allowed_transitions).sum())
        return f"num_tags={self.num_tags}, forbidden_transitions={forbidden}"
