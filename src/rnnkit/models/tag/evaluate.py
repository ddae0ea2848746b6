"""Score a tagger: the dev metrics its training watches and ``rnnkit evaluate`` of a ``tag``
run. Entity tags are scored by span (seqeval, strict), POS tags by token accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from rnnkit.data.records import TaggedSentence
from rnnkit.data.tagschemes import detect_scheme
from rnnkit.errors import ConfigError
from rnnkit.models.tag.artifact import TextTagger
from rnnkit.models.tag.data import TagDataConfig, convert_tags, read_tagged
from rnnkit.models.tag.model import TagBatch, Tagger
from rnnkit.training.tag_metrics import TaggingReport, tagging_report

__all__ = ["check_tags", "evaluate_tagger", "tagger_metrics"]


def check_tags(tagger: TextTagger, gold: Sequence[Sequence[str]], source: object) -> None:
    """Refuse ``gold`` tag sequences holding a tag ``tagger`` was not trained on: a
    :class:`ConfigError` naming ``source`` and the sentence (as the classifier refuses an
    unseen label)."""
    for number, tags in enumerate(gold, 1):
        tagger.tag_ids(tags, f"{source}: sentence {number}: ")


def tagger_metrics(
    tags: Sequence[str], scheme: str
) -> Callable[[torch.nn.Module, Iterable[TagBatch]], dict[str, float]]:
    """The dev metrics of the Trainer: ``accuracy``, ``loss``, ``f1`` (chunk tags) and ``score``
    (F1 for chunk tags, else accuracy)."""

    def metrics(model: torch.nn.Module, batches: Iterable[TagBatch]) -> dict[str, float]:
        assert isinstance(model, Tagger)
        gold: list[list[str]] = []
        pred: list[list[str]] = []
        losses = []
        for batch in batches:
            out = model(batch)
            best = model.decode(out).cpu()
            assert batch.tags is not None and out.loss is not None
            losses.append(float(out.loss))
            for r, n in enumerate(batch.lengths.tolist()):
                gold.append([tags[j] for j in batch.tags[r, :n].tolist()])
                pred.append([tags[j] for j in best[r, :n].tolist()])
        report = tagging_report(gold, pred, scheme)
        out_metrics = {"accuracy": report.accuracy, "loss": float(np.mean(losses))}
        if report.micro is not None:
            out_metrics["f1"] = report.micro.f1
        out_metrics["score"] = report.score
        return out_metrics

    return metrics


def evaluate_tagger(
    tagger: TextTagger | str | Path,
    data: Sequence[TaggedSentence] | str | Path,
    *,
    data_config: TagDataConfig | None = None,
    source_scheme: str | None = None,
    plot_dir: str | Path | None = None,
    name: str = "eval",
    batch_size: int = 64,
) -> TaggingReport:
    """Score a tagger (or a run directory) on tagged sentences (or a file).

    Gold tags are converted from ``source_scheme`` (default: detected) to the model's scheme.
    With ``plot_dir``, the confusion matrix of the most-confused tags is written there as
    ``confusion_<name>.png``.
    """
    from rnnkit.training.tag_metrics import plot_most_confused

    t = tagger if isinstance(tagger, TextTagger) else TextTagger.load(tagger)
    sentences = read_tagged(data, data_config) if isinstance(data, str | Path) else list(data)
    if not sentences:
        raise ConfigError(f"{data if isinstance(data, str | Path) else 'the data'}: no sentences")
    source = source_scheme or detect_scheme(sorted({x for s in sentences for x in s.tags}))
    if t.scheme == "none" or source == "none":
        gold = [list(s.tags) for s in sentences]
    else:
        gold = convert_tags(sentences, source, t.scheme)
    check_tags(t, gold, data if isinstance(data, str | Path) else "the data")
    predicted = t.tag([s.tokens for s in sentences], batch_size)
    report = tagging_report(gold, predicted, t.scheme, t.tags)
    if plot_dir is not None:
        plot_most_confused(report, Path(plot_dir) / f"confusion_{name}.png")
    return report
