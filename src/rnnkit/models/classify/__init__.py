"""The classify task (the acceptor): the network (``model``), its run directory (``artifact``),
training (``train``), evaluation and prediction (``evaluate``), and explanations (``explain``)."""

from rnnkit.models.classify.artifact import Prediction, TextClassifier
from rnnkit.models.classify.evaluate import (
    classifier_metrics,
    evaluate_classifier,
    predict_stream,
)
from rnnkit.models.classify.model import Classifier, ClassifierConfig, build_classifier
from rnnkit.models.classify.train import (
    DEFAULT_MODEL,
    ClassifyDataConfig,
    ClassifyRunConfig,
    TrainResult,
    train_classifier,
)

__all__ = [
    "DEFAULT_MODEL",
    "Classifier",
    "ClassifierConfig",
    "ClassifyDataConfig",
    "ClassifyRunConfig",
    "Prediction",
    "TextClassifier",
    "TrainResult",
    "build_classifier",
    "classifier_metrics",
    "evaluate_classifier",
    "predict_stream",
    "train_classifier",
]
