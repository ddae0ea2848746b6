"""VADER lexicon rule: a sentiment baseline that learns nothing from the training data.

VADER (Hutto & Gilbert 2014, "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of
Social Media Text") sums the valences of the words of a 7,500-entry lexicon, adjusted by rules for
negation, intensifiers, "but", capitals and punctuation, into a ``compound`` score in
``[-1, 1]``. The authors' thresholds turn it into three classes:

.. math::
    y = \\begin{cases} \\text{positive} & \\text{compound} \\ge 0.05 \\\\
    \\text{negative} & \\text{compound} \\le -0.05 \\\\ \\text{neutral} & \\text{otherwise}
    \\end{cases}

The texts are scored raw: VADER reads capitals, punctuation and emoticons itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnkit.data.classification import read_classification
from rnnkit.errors import ConfigError
from rnnkit.training.metrics import ClassificationReport, classification_report

__all__ = ["VADER_THRESHOLD", "VaderLabels", "VaderRule", "evaluate_vader"]

#: Hutto & Gilbert's threshold on the compound score (vaderSentiment's README).
VADER_THRESHOLD = 0.05


@dataclass(frozen=True)
class VaderLabels:
    """The names the data set gives to the three classes."""

    negative: str = "negative"
    neutral: str = "neutral"
    positive: str = "positive"

    def as_tuple(self) -> tuple[str, str, str]:
        """``(negative, neutral, positive)``."""
        return self.negative, self.neutral, self.positive


class VaderRule:
    """Three-way sentiment from VADER's compound score.

    Args:
        labels: the class names to predict.
        threshold: ``compound >= threshold`` is positive, ``<= -threshold`` negative.
    """

    def __init__(self, labels: VaderLabels = VaderLabels(), threshold: float = VADER_THRESHOLD):
        if not 0.0 <= threshold < 1.0:
            raise ConfigError(f"the VADER threshold must be in [0, 1), got {threshold}")
        if len(set(labels.as_tuple())) != 3:
            raise ConfigError(f"the three VADER labels must differ, got {labels.as_tuple()}")
        self.labels, self.threshold = labels, threshold
        self._analyzer = _analyzer()

    def compound(self, texts: Sequence[str]) -> list[float]:
        """VADER's compound score of each text, in ``[-1, 1]``."""
        return [float(self._analyzer.polarity_scores(t)["compound"]) for t in texts]

    def label(self, compound: float) -> str:
        """The class of one compound score."""
        if compound >= self.threshold:
            return self.labels.positive
        if compound <= -self.threshold:
            return self.labels.negative
        return self.labels.neutral

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The class of each text."""
        return [self.label(c) for c in self.compound(texts)]


def evaluate_vader(
    path: str | Path, labels: VaderLabels = VaderLabels(), threshold: float = VADER_THRESHOLD
) -> ClassificationReport:
    """Score the VADER rule on a classification file (docs/design.md §6).

    Raises:
        DataFormatError: the file is malformed; ConfigError: it holds labels other than the
            three of ``labels`` (the rule cannot predict them).
    """
    examples = read_classification(path)
    known = labels.as_tuple()
    unknown = sorted({ex.label for ex in examples} - set(known))
    if unknown:
        raise ConfigError(
            f"{path}: label(s) {', '.join(map(repr, unknown[:10]))} are not among VADER's "
            f"three classes {known}; name the file's classes with VaderLabels"
        )
    predicted = VaderRule(labels, threshold).predict([ex.text for ex in examples])
    return classification_report([ex.label for ex in examples], predicted, labels=known)


def _analyzer() -> Any:
    try:
        from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
            SentimentIntensityAnalyzer,
        )
    except ImportError:
        raise ConfigError(
            "the VADER baseline needs vaderSentiment: pip install vaderSentiment==3.3.2"
        ) from None
    return SentimentIntensityAnalyzer()
