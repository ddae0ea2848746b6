"""rnnkit.models: the task models, their run directories, and :func:`load`."""

from rnnkit.models.classify.artifact import Prediction, TextClassifier
from rnnkit.models.classify.encoder import SkipEncoder
from rnnkit.models.classify.hierarchical import HierarchicalEncoder
from rnnkit.models.classify.model import (
    Classifier,
    ClassifierConfig,
    ClassifierOutput,
    MLPHead,
    build_classifier,
)
from rnnkit.models.common.artifact import load, read_run_config, write_run_config
from rnnkit.models.common.embedder import Embedder, pretrained_matrix
from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.model import LanguageModel, LMConfig, LMOutput
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.model import Tagger, TaggerConfig, TaggerOutput, build_tagger
from rnnkit.models.translate.artifact import Translation, Translator
from rnnkit.models.translate.model import Seq2Seq, Seq2SeqConfig, build_seq2seq

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
