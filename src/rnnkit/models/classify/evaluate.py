"""Score a classifier and predict with it: the library behind ``rnnkit evaluate`` and ``rnnkit
predict`` of a ``classify`` run, and the dev metrics its training watches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch

from rnnkit.data.batching import STREAM_CHUNK, PaddedBatch, stream_in_chunks
from rnnkit.data.classification import read_classification
from rnnkit.data.records import TextExample
from rnnkit.errors import ConfigError
from rnnkit.models.classify.artifact import Prediction, TextClassifier
from rnnkit.training.metrics import ClassificationReport, classification_report

__all__ = ["check_labels", "classifier_metrics", "evaluate_classifier", "predict_stream"]


def check_labels(
    clf: TextClassifier, examples: Sequence[TextExample], source: str | Path | None
) -> None:
    """Refuse ``examples`` whose labels the classifier was not trained on, naming ``source``."""
    try:
        clf.label_ids([ex.label for ex in examples])
    except ConfigError as err:
        raise ConfigError(f"{source or 'the data'}: {err}") from None


def classifier_metrics(model: torch.nn.Module, batches: Iterable[PaddedBatch]) -> dict[str, float]:
    """Accuracy, macro-F1 and mean loss of ``model`` on labelled ``batches`` (the dev metrics)."""
    gold: list[int] = []
    predicted: list[int] = []
    losses = []
    for batch in batches:
        out = model(batch)
        assert batch.labels is not None
        gold += batch.labels.tolist()
        predicted += out.logits.argmax(dim=1).tolist()
        losses.append(float(out.loss))
    report = classification_report([str(i) for i in gold], [str(i) for i in predicted])
    return {
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "loss": float(np.mean(losses)),
    }


def evaluate_classifier(
    classifier: TextClassifier | str | Path,
    data: Sequence[TextExample] | str | Path,
    source: str | Path | None = None,
    batch_size: int = 64,
) -> ClassificationReport:
    """Score a classifier (or a run directory) on labelled examples (or a classification file).

    Labels the model never saw in training raise :class:`~rnnkit.errors.ConfigError`.
    """
    clf = classifier if isinstance(classifier, TextClassifier) else TextClassifier.load(classifier)
    if isinstance(data, str | Path):
        source, examples = data, read_classification(data)
    else:
        examples = list(data)
    if not examples:
        raise ConfigError(f"{source or 'the data'}: no examples")
    gold = [ex.label for ex in examples]
    check_labels(clf, examples, source)
    probs = clf.predict_proba([ex.text for ex in examples], batch_size)
    predicted = [clf.labels[i] for i in probs.argmax(axis=1)]
    return classification_report(gold, predicted, labels=clf.labels)


def predict_stream(
    classifier: TextClassifier,
    texts: Iterable[str],
    batch_size: int = 64,
    chunk: int = STREAM_CHUNK,
) -> Iterator[Prediction]:
    """Predictions for ``texts`` in input order, ``chunk`` texts at a time, each chunk run in
    batches of similar length: input of any size (stdin) holds constant memory, and the first
    answers come before the input ends."""
    return stream_in_chunks(texts, lambda block: classifier.predict(block, batch_size), chunk)
