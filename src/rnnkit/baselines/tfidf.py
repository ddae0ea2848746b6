"""TF-IDF + logistic-regression text classifier: the yardstick for the RNN acceptor.

Word 1–2-grams weighted by sublinear TF-IDF (``1 + ln tf`` times scikit-learn's smoothed idf,
rows L2-normalised), a multinomial logistic regression on top, and its inverse regularisation
strength ``C`` chosen on the dev set by macro-F1. The model chosen on dev is the one scored on
test (it is not refitted on train + dev), so the test figure is an honest held-out number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline as SkPipeline

from rnnkit.data.formats import TextExample, read_classification
from rnnkit.errors import ConfigError
from rnnkit.fileio import write_json
from rnnkit.training.metrics import (
    ClassificationReport,
    classification_report,
    plot_confusion_matrix,
)

Tokenizer = Callable[[str], list[str]]


@dataclass(frozen=True)
class TfidfConfig:
    """Settings of the baseline.

    Args:
        ngram_range: smallest and largest word n-gram.
        sublinear_tf: replace ``tf`` by ``1 + ln tf``.
        min_df: drop n-grams seen in fewer documents.
        c_grid: values of logistic regression's ``C`` tried on dev.
        max_iter: epochs of the SAGA solver.
    """

    ngram_range: tuple[int, int] = (1, 2)
    sublinear_tf: bool = True
    min_df: int = 1
    c_grid: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    max_iter: int = 1000


@dataclass
class TfidfResult:
    """The fitted model, the ``C`` chosen on dev, and the dev and test reports."""

    model: SkPipeline
    best_c: float
    dev_scores: dict[float, float]
    dev: ClassificationReport
    test: ClassificationReport
    files: list[Path] = field(default_factory=list)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Predicted labels for raw texts."""
        return [str(y) for y in self.model.predict(list(texts))]

    def to_json(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""
        return {
            "model": "tfidf-logreg",
            "best_c": self.best_c,
            "dev_macro_f1_by_c": {str(c): f for c, f in self.dev_scores.items()},
            "dev": self.dev.to_json(),
            "test": self.test.to_json(),
        }


def build_vectorizer(config: TfidfConfig, tokenizer: Tokenizer | None) -> TfidfVectorizer:
    """An unfitted TF-IDF vectorizer; with no ``tokenizer``, scikit-learn's word pattern."""
    return TfidfVectorizer(
        ngram_range=config.ngram_range,
        sublinear_tf=config.sublinear_tf,
        min_df=config.min_df,
        tokenizer=tokenizer,
        token_pattern=None if tokenizer is not None else r"(?u)\b\w\w+\b",
        lowercase=tokenizer is None,
    )


def fit_tfidf(
    train: Sequence[TextExample],
    dev: Sequence[TextExample],
    test: Sequence[TextExample],
    config: TfidfConfig = TfidfConfig(),
    tokenizer: Tokenizer | None = None,
) -> TfidfResult:
    """Fit one model per ``C`` on ``train``, keep the best on ``dev`` (macro-F1), score ``test``.

    The features do not depend on ``C``, so the vectorizer is fitted once. The solver is SAGA
    (the same L2-regularised multinomial objective as L-BFGS, about ten times faster here on
    sparse n-gram features), seeded for repeatable runs.
    """
    if not config.c_grid:
        raise ConfigError("TfidfConfig.c_grid must hold at least one value of C")
    labels = sorted({ex.label for ex in train})
    vectorizer = build_vectorizer(config, tokenizer)
    x_train = vectorizer.fit_transform([ex.text for ex in train])
    x_dev = vectorizer.transform([ex.text for ex in dev])
    gold_dev = [ex.label for ex in dev]
    dev_scores: dict[float, float] = {}
    classifiers: dict[float, LogisticRegression] = {}
    for c in config.c_grid:
        clf = LogisticRegression(C=c, solver="saga", max_iter=config.max_iter, random_state=0)
        clf.fit(x_train, [ex.label for ex in train])
        predicted = [str(y) for y in clf.predict(x_dev)]
        dev_scores[c] = classification_report(gold_dev, predicted, labels).macro_f1
        classifiers[c] = clf
    best_c = max(config.c_grid, key=lambda c: dev_scores[c])
    model = SkPipeline([("tfidf", vectorizer), ("logreg", classifiers[best_c])])

    def score(examples: Sequence[TextExample]) -> ClassificationReport:
        predicted = [str(y) for y in model.predict([ex.text for ex in examples])]
        return classification_report([ex.label for ex in examples], predicted, labels)

    return TfidfResult(model, best_c, dev_scores, score(dev), score(test))


def run_tfidf_baseline(
    train: str | Path,
    dev: str | Path,
    test: str | Path,
    out_dir: str | Path,
    config: TfidfConfig = TfidfConfig(),
    tokenizer: Tokenizer | None = None,
) -> TfidfResult:
    """Read the three classification files, fit, and write ``metrics.json`` and
    ``confusion_matrix.png`` (test set) into ``out_dir``.

    All three files are read and validated before anything is written.
    """
    train_set, dev_set, test_set = (read_classification(p) for p in (train, dev, test))
    result = fit_tfidf(train_set, dev_set, test_set, config=config, tokenizer=tokenizer)
    out = Path(out_dir)
    metrics, png = out / "metrics.json", out / "confusion_matrix.png"
    write_json(metrics, result.to_json())
    plot_confusion_matrix(result.test, png, title="TF-IDF baseline, test")
    result.files = [metrics, png]
    return result
