"""The tag task (the transducer, BiLSTM-CRF): the network (``model``), its run directory
(``artifact``), the files it reads (``data``), training (``train``), evaluation (``evaluate``)
and streaming prediction (``predict``)."""

from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.data import TagDataConfig, read_tagged
from rnnkit.models.tag.evaluate import evaluate_tagger, tagger_metrics
from rnnkit.models.tag.model import Tagger, TaggerConfig, build_tagger
from rnnkit.models.tag.predict import conll_token_lists, predict_stream
from rnnkit.models.tag.train import TagRunConfig, TagTrainResult, train_tagger

__all__ = [
    "TagDataConfig",
    "TagRunConfig",
    "TagTrainResult",
    "Tagger",
    "TaggerConfig",
    "TextTagger",
    "build_tagger",
    "conll_token_lists",
    "evaluate_tagger",
    "predict_stream",
    "read_tagged",
    "tagger_metrics",
    "train_tagger",
]
