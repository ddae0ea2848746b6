r"""An ensemble of classifiers trained from different seeds: their class probabilities averaged,
and averaged again, half and half, with a bag of n-grams when there is one.

.. math::
    p(y \mid x) = \frac{1}{K} \sum_{k=1}^{K} p_k(y \mid x), \qquad
    p'(y \mid x) = \tfrac12\, p(y \mid x) + \tfrac12\, p_{\text{n-grams}}(y \mid x)

Averaging the predictions of networks that differ only in their random start removes part of
the variance of each (Hansen & Salamon 1990; Lakshminarayanan et al. 2017), at K times the cost
of training and prediction. The bag of n-grams (:class:`~.wide.TfidfLogReg`) is the other half
of Mesnil et al.'s (2015) mixture: it remembers exact phrases the RNN generalises over. The
output is a :class:`~.model.ClassifierOutput` like a single classifier's, so everything that
reads one (prediction, ``--explain``, evaluation) reads this.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rnnkit.data.batching import PaddedBatch
from rnnkit.errors import ConfigError
from rnnkit.models.classify.model import Classifier, ClassifierOutput
from rnnkit.models.classify.wide import TfidfLogReg

__all__ = ["Ensemble"]


class Ensemble(nn.Module):
    """``K`` classifiers over the same vocabulary and labels, read as one.

    Shape:
        - the batch as for :class:`~.model.Classifier`; ``logits`` ``(B, C)`` are the log of
          the mean probabilities; ``attention`` ``(B, T)`` the members' mean (when they all
          have attention), ``loss`` the negative log-likelihood of the mean probabilities.
    """

    def __init__(self, members: Sequence[Classifier], wide: TfidfLogReg | None = None) -> None:
        super().__init__()
        if len(members) + (wide is not None) < 2:
            raise ConfigError(f"an ensemble needs at least 2 members, got {len(members)}")
        if len({m.num_labels for m in members}) != 1:
            raise ConfigError("the members of an ensemble must predict the same labels")
        self.members = nn.ModuleList(members)
        self.wide = wide

    @property
    def num_labels(self) -> int:
        """``C``."""
        first = self.members[0]
        assert isinstance(first, Classifier)
        return first.num_labels

    def forward(self, batch: PaddedBatch) -> ClassifierOutput:
        outputs = [member(batch) for member in self.members]
        probs = torch.stack([out.probabilities for out in outputs]).mean(0)  # (B, C)
        if self.wide is not None:
            probs = 0.5 * probs + 0.5 * self.wide(batch)
        logits = probs.clamp_min(1e-12).log()
        loss = None
        if batch.labels is not None:
            loss = nn.functional.nll_loss(logits, batch.labels)
        weights = [out.attention for out in outputs]
        attention = None
        if all(w is not None for w in weights):
            attention = torch.stack([w for w in weights if w is not None]).mean(0)
        return ClassifierOutput(logits, loss, attention)
