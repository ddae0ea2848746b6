"""``rnnkit export``: a trained run as int8 or ONNX, itself a run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.common import app, console


@app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by rnnkit train.")],
    fmt: Annotated[str, typer.Option("--format", help="onnx | int8")],
    out: Annotated[Path, typer.Option("--out", help="The new run directory (must not exist).")],
) -> None:
    r"""Export a trained model: int8 (dynamic quantization of the LSTM/GRU and linear layers)
    or onnx (run by onnxruntime; pip install 'rnnkit\[onnx]'). The output is a run directory that
    rnnkit predict, evaluate and rnnkit.load take as they take the original.

    Example: rnnkit export runs/pos --format int8 --out runs/pos-int8
    """
    from rnnkit.export import export_run

    written = export_run(run_dir, fmt, out)
    console.print(f"wrote {written} ({fmt})", highlight=False, markup=False)
