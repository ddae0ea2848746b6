"""``rnnkit diagnose``: measurements that explain how RNNs train."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rnnkit.cli.common import console, diagnose_app


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
