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
from rnnkit.models.hierarchical import HierarchicalEncoder
from rnnkit.models.lm import LanguageModel, LMConfig, LMOutput
from rnnkit.models.seq2seq import Seq2Seq, Seq2SeqConfig, build_seq2seq
from rnnkit.models.tagger import Tagger, TaggerConfig, TaggerOutput, build_tagger
from rnnkit.models.text_classifier import Prediction, TextClassifier
from rnnkit.models.text_lm import TextLM
from rnnkit.models.text_tagger import TextTagger
from rnnkit.models.translator import Translation, Translator

__all__ = [
    "Classifier",
    "ClassifierConfig",
    "ClassifierOutput",
    "Embedder",
    "HierarchicalEncoder",
    "LMConfig",
    "LMOutput",
    "LanguageModel",
    "MLPHead",
    "Prediction",
    "Seq2Seq",
    "Seq2SeqConfig",
    "SkipEncoder",
    "Tagger",
    "TaggerConfig",
    "TaggerOutput",
    "TextClassifier",
    "TextLM",
    "TextTagger",
    "Translation",
    "Translator",
    "build_classifier",
    "build_seq2seq",
    "build_tagger",
    "load",
    "pretrained_matrix",
    "read_run_config",
    "write_run_config",
]
