"""Score a translator: teacher-forced dev metrics for its training, and ``rnnkit evaluate``
(BLEU, chrF) and the attention plot of ``rnnkit translate``.

BLEU (Papineni et al. 2002) and chrF (Popović 2015) are sacrebleu's (Post 2018), computed on
detokenized output against the raw reference text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rnnkit.data.formats import read_pairs
from rnnkit.data.records import Pair
from rnnkit.errors import ConfigError
from rnnkit.fileio import atomic_path
from rnnkit.models.translate.artifact import Translation, Translator
from rnnkit.models.translate.model import PairBatch

__all__ = ["TranslationScores", "evaluate_translator", "plot_attention", "seq2seq_metrics"]


@dataclass(frozen=True)
class TranslationScores:
    """Corpus BLEU and chrF of ``hypotheses`` against ``references``, decoded with beams of
    ``beam_size`` (1: greedy search)."""

    bleu: float
    chrf: float
    sentences: int
    hypotheses: list[str]
    references: list[str]
    beam_size: int = 1

    @property
    def decoding(self) -> str:
        """``"greedy"`` or ``"beam K"``."""
        return "greedy" if self.beam_size == 1 else f"beam {self.beam_size}"

    def to_json(self) -> dict[str, Any]:
        """``{"bleu", "chrf", "sentences", "beam_size"}``."""
        return {
            "bleu": self.bleu,
            "chrf": self.chrf,
            "sentences": self.sentences,
            "beam_size": self.beam_size,
        }


def seq2seq_metrics(model: torch.nn.Module, batches: Iterable[PairBatch]) -> dict[str, float]:
    """Teacher-forced dev metrics: mean token ``loss``, perplexity ``ppl`` and token
    ``accuracy`` (the loss includes label smoothing when the model uses it)."""
    total_loss, tokens, correct = 0.0, 0, 0
    for batch in batches:
        out = model(batch)
        real = batch.tgt_out != 0
        n = int(real.sum())
        total_loss += float(out.loss) * n
        tokens += n
        correct += int(((out.logits.argmax(-1) == batch.tgt_out) & real).sum())
    if tokens == 0:
        raise ConfigError("the dev data gave no target tokens")
    loss = total_loss / tokens
    return {"loss": loss, "ppl": math.exp(min(loss, 50.0)), "accuracy": correct / tokens}


def evaluate_translator(
    translator: Translator | str | Path,
    data: Sequence[Pair] | str | Path,
    beam_size: int | None = None,
) -> TranslationScores:
    """Translate the sources of ``data`` (pairs or a pair file) and score them against the
    targets with sacrebleu's corpus BLEU and chrF (``beam_size`` overrides the run's)."""
    import sacrebleu

    model = translator if isinstance(translator, Translator) else Translator.load(translator)
    pairs = read_pairs(data) if isinstance(data, str | Path) else list(data)
    if not pairs:
        raise ConfigError("no pairs to evaluate")
    hyps = [t.text for t in model.translate([p.source for p in pairs], beam_size)]
    refs = [p.target for p in pairs]
    bleu = sacrebleu.corpus_bleu(hyps, [refs]).score
    chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
    beam = beam_size if beam_size is not None else model.decode.beam_size
    return TranslationScores(float(bleu), float(chrf), len(pairs), hyps, refs, beam)


def plot_attention(translation: Translation, path: str | Path) -> Path:
    """Draw the attention weights of ``translation`` as a heat map PNG (target rows, source
    columns; the last row is ``<eos>``). Raises :class:`ConfigError` without attention."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if translation.attention is None:
        raise ConfigError("this model has no attention to plot (model.attention = none)")
    weights = translation.attention.numpy()
    rows = [*translation.tokens, "<eos>"][: weights.shape[0]]
    cols = translation.source_tokens
    fig = Figure(figsize=(max(4.0, 0.4 * len(cols) + 2), max(3.0, 0.35 * len(rows) + 1.5)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=90)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return path
