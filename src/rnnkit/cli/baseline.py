"""``rnnkit baseline``: the non-recurrent baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.common import JsonFlag, baseline_app, console
from rnnkit.text.pipeline import DEFAULT_TWEET_PIPELINE


@baseline_app.command("tfidf")
def baseline_tfidf(
    train: Annotated[str, typer.Option(help="Training file (CSV/JSONL) or NAME:train.")],
    dev: Annotated[str, typer.Option(help="Dev file, used to choose C.")],
    test: Annotated[str, typer.Option(help="Test file, scored once.")],
    out: Annotated[Path, typer.Option(help="Directory for metrics.json and the PNG.")] = Path(
        "runs/tfidf"
    ),
    pipeline: Annotated[
        str, typer.Option(help="Comma-separated preprocessing steps (rnnkit.text).")
    ] = ",".join(DEFAULT_TWEET_PIPELINE),
    as_json: JsonFlag = False,
) -> None:
    """TF-IDF (word 1-2-grams, sublinear tf) + logistic regression, C chosen on dev.

    Prints accuracy, macro-F1 and a per-class table; writes metrics.json and
    confusion_matrix.png.

    Example: rnnkit baseline tfidf --train tweets:train --dev tweets:dev --test tweets:test
    """
    from rnnkit.baselines.tfidf import run_tfidf_baseline
    from rnnkit.data import datasets
    from rnnkit.text import Pipeline

    train_path, dev_path, test_path = (datasets.resolve(spec) for spec in (train, dev, test))
    steps: list[str | dict[str, object]] = [s.strip() for s in pipeline.split(",") if s.strip()]
    tokenizer = Pipeline.from_config(steps)
    result = run_tfidf_baseline(train_path, dev_path, test_path, out, tokenizer=tokenizer)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    from rnnkit.training.metrics import report_table

    console.print(f"C chosen on dev: {result.best_c:g} (dev macro-F1 {result.dev.macro_f1:.3f})")
    console.print(report_table(result.test, title="TF-IDF baseline, test set"))
    for path in result.files:
        console.print(f"wrote {path}", highlight=False)
