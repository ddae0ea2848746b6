"""The translate task (encoder-decoder with attention): the network (``model``), its run
directory (``artifact``), training (``train``), scores (``evaluate``) and greedy and beam search
(``decode``)."""

from rnnkit.models.translate.artifact import DecodeConfig, Translation, Translator
from rnnkit.models.translate.evaluate import (
    TranslationScores,
    evaluate_translator,
    plot_attention,
    seq2seq_metrics,
)
from rnnkit.models.translate.model import Seq2Seq, Seq2SeqConfig, build_seq2seq
from rnnkit.models.translate.train import (
    TranslateDataConfig,
    TranslateResult,
    TranslateRunConfig,
    train_translator,
)

__all__ = [
    "DecodeConfig",
    "Seq2Seq",
    "Seq2SeqConfig",
    "TranslateDataConfig",
    "TranslateResult",
    "TranslateRunConfig",
    "Translation",
    "TranslationScores",
    "Translator",
    "build_seq2seq",
    "evaluate_translator",
    "plot_attention",
    "seq2seq_metrics",
    "train_translator",
]
