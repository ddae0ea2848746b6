"""The lm task (language models, generation, the label-conditioned generator): the network
(``model``), its run directory (``artifact``), training (``train``), exact evaluation
(``evaluate``) and sampling (``generate``)."""

from rnnkit.models.lm.artifact import TextLM
from rnnkit.models.lm.evaluate import LMEvaluation, evaluate_conditional, evaluate_lm
from rnnkit.models.lm.generate import GenerationConfig, generate
from rnnkit.models.lm.model import LanguageModel, LMConfig, build_language_model
from rnnkit.models.lm.train import LMDataConfig, LMRunConfig, LMTrainResult, train_lm

__all__ = [
    "GenerationConfig",
    "LMConfig",
    "LMDataConfig",
    "LMEvaluation",
    "LMRunConfig",
    "LMTrainResult",
    "LanguageModel",
    "TextLM",
    "build_language_model",
    "evaluate_conditional",
    "evaluate_lm",
    "generate",
    "train_lm",
]
