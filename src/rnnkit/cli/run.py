"""Commands that work on any run directory (``evaluate``, ``predict``), the root options and
``rnnkit demo``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rnnkit import __version__
from rnnkit.cli.common import (
    EvaluateArgs,
    JsonFlag,
    PredictArgs,
    app,
    console,
    task_handlers,
)

RunDir = Annotated[Path, typer.Argument(help="A run directory written by rnnkit train.")]


def _version(value: bool) -> None:
    if value:
        print(f"rnnkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Recurrent neural networks for NLP: data, embeddings, RNN models.

    Example: rnnkit data list
    """


def _task(run_dir: Path) -> str:
    from rnnkit.models.common.artifact import read_run_config

    return str(read_run_config(run_dir)["task"])


@app.command("evaluate")
def evaluate(
    run_dir: RunDir,
    data: Annotated[str, typer.Option("--data", help="A labelled file, or NAME:SPLIT.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory for plots (default: the run's).")
    ] = None,
    beam: Annotated[
        int | None,
        typer.Option("--beam", min=1, help="Translation: beam size (default: the run's)."),
    ] = None,
    as_json: JsonFlag = False,
    plots: Annotated[
        bool,
        typer.Option("--plots", help="Classify, tag: draw the confusion PNG also with --json."),
    ] = False,
) -> None:
    """Score a trained model on a labelled file: the task's metrics, tables and plots (with
    --json, plots only when --plots is given).

    Example: rnnkit evaluate runs/tweets --data tweets:test
    """
    from rnnkit.data import datasets

    task = _task(run_dir)
    handlers = task_handlers(task, run_dir)
    handlers.refuse({"--beam": beam, "--plots": plots}, task, run_dir)
    options = {"beam": beam} if beam is not None else {}
    draw = plots or not as_json
    handlers.evaluate(EvaluateArgs(run_dir, datasets.resolve(data), as_json, out, options, draw))


@app.command("predict")
def predict(
    run_dir: RunDir,
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to label (default: stdin, one per line).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per input.")] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show each token's attention weight.")
    ] = False,
    conll: Annotated[
        bool, typer.Option("--conll", help="Tagging: read pre-tokenized CoNLL from stdin.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts per batch.")] = 64,
) -> None:
    """Label raw text with a trained model (preprocessed as in training): one answer per input
    line, in order, carrying its text (--json: "line" and "text"); a blank line gets an empty
    answer.

    Example: rnnkit predict runs/tweets "I liked it." --explain
    """
    task = _task(run_dir)
    handlers = task_handlers(task, run_dir)
    if handlers.predict is None:
        from rnnkit.errors import RnnkitError

        raise RnnkitError(f"{run_dir}: this task has no predict command")
    handlers.refuse({"--explain": explain, "--conll": conll}, task, run_dir)
    if texts is None and sys.stdin.isatty():
        console.print("reading texts from stdin, one per line (Ctrl-D to end)…", style="dim")
    handlers.predict(PredictArgs(run_dir, texts, as_json, explain, conll, batch_size))


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Directory for the demo's outputs.")] = Path(
        "runs/demo"
    ),
) -> None:
    """Sentiment of tweets end to end: an RNN classifier (GloVe vectors, attention) beside the
    TF-IDF baseline on the same test split, then a few predictions explained by attention.

    Example: rnnkit demo
    """
    from rnnkit.demo import run_demo

    run_demo(out, console)
