"""``rnnkit bench``: the speed and memory of a run directory's predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.common import JsonFlag, app, console


@app.command("bench")
def bench(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (of rnnkit train, or an export of one).")
    ],
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Inputs: a .txt file (one per line), a labelled file, or NAME:SPLIT "
            "(default: a built-in sample of 256 sentences).",
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads", min=1, help="PyTorch's CPU threads (an ONNX model: batches run at once)."
        ),
    ] = None,
    beam: Annotated[
        int | None, typer.Option("--beam", min=1, help="Translation: beam size (default 1).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Inputs per batch.")] = 64,
    as_json: JsonFlag = False,
) -> None:
    """Measure prediction speed (items/s and tokens/s batched, p50/p95 latency of one item)
    and peak memory, for whatever format the run directory holds.

    Example: rnnkit bench runs/pos --data brown-upos:test --threads 2 --json
    """
    from rnnkit.data import datasets
    from rnnkit.inference.bench import bench as run_bench

    path = datasets.resolve(data) if data is not None else None
    result = run_bench(run_dir, path, threads, beam, batch_size)
    if as_json:
        print(json.dumps(result.to_json()))
        return
    console.print(
        f"{run_dir} ({result.task}, {result.format}) on {result.items:,} inputs, "
        f"{result.tokens:,} tokens\n"
        f"batched: {result.items_per_s:,.1f} items/s, {result.tokens_per_s:,.0f} tokens/s\n"
        f"one item: p50 {result.p50_ms:.2f} ms, p95 {result.p95_ms:.2f} ms\n"
        f"peak memory: {result.peak_rss_mb:,.0f} MiB",
        highlight=False,
        soft_wrap=True,
    )
