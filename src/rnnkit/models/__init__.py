"""rnnkit.models: the task models, their run directories, and :func:`load`."""

from rnnkit.models.base import load, read_run_config, write_run_config
from rnnkit.models.classifier import (
    Classifier,
    ClassifierConfig,
    ClassifierOutput,
    MLPHead,
    build_classifier,
)
from rnnkit.models.embedder import Embedder, pretrained_matrix
from rnnkit.models.encoder import SkipEncoder
from rnnkit.models.text_classifier import Prediction, TextClassifier

__all__ = [
    "Classifier",
    "ClassifierConfig",
    "ClassifierOutput",
    "Embedder",
    "MLPHead",
    "Prediction",
    "SkipEncoder",
    "TextClassifier",
    "build_classifier",
    "load",
    "pretrained_matrix",
    "read_run_config",
    "write_run_config",
]
