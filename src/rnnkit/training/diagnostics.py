"""Gradient flow through time: ``‖∂L/∂h_k‖`` for every step ``k`` of a loss taken at step ``T``.

The vanishing-gradient argument (Hochreiter 1991; Bengio, Simard & Frasconi 1994) says that in
an Elman network ``∂L/∂h_k`` is a product of ``T - k`` Jacobians ``diag(g') W_hh`` and shrinks
geometrically when their norms are below one, while the LSTM's memory ``c_t = f_t ⊙ c_{t-1} + …``
carries it back scaled only by the forget gates. This module measures it: random networks
(PyTorch's initialisation, optionally a forget-gate bias), random inputs, a random linear
readout of ``h_T`` as the loss, in float64 so that nothing underflows.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.fileio import atomic_path, write_json
from rnnkit.nn.cells import MODES, RecurrentCell, has_cell_state, make_cell

PNG_NAME = "gradient_flow.png"
JSON_NAME = "gradient_flow.json"


@dataclass(frozen=True)
class GradientFlow:
    """Per-step gradient norms of one configuration.

    Attributes:
        mode: the cell.
        length: ``T``.
        hidden_size: ``H`` (the input size is ``H`` too).
        forget_bias: the LSTM forget-gate bias used, ``None`` for PyTorch's initialisation.
        seed: first of ``n_inits`` consecutive seeds (one network and input batch each).
        n_sequences: how many sequences the statistics cover (batch size × inits).
        norms: mean ``‖∂L/∂h_k‖`` over the sequences, for ``k = 1..T``.
        low: 10th percentile per step.
        high: 90th percentile per step.
    """

    mode: str
    length: int
    hidden_size: int
    forget_bias: float | None
    seed: int
    n_sequences: int
    norms: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    @property
    def label(self) -> str:
        """A legend label, e.g. ``"lstm (forget bias 1)"``."""
        if self.forget_bias is None:
            # a forget bias is the bias of the gate on the memory c: only cells with one have it
            return f"{self.mode} (PyTorch init)" if has_cell_state(self.mode) else self.mode
        return f"{self.mode} (forget bias {self.forget_bias:g})"

    @property
    def decades_lost_per_step(self) -> float:
        """``(log10 ‖∂L/∂h_T‖ - log10 ‖∂L/∂h_1‖) / (T - 1)``: positive when the gradient
        vanishes going back in time, negative when it explodes."""
        first, last = self.norms[0], self.norms[-1]
        if first <= 0.0:
            return math.inf
        return (math.log10(last) - math.log10(first)) / (self.length - 1)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GradientFlow:
        """Rebuild a result from :meth:`to_json`'s dict (the summary figures are ignored)."""
        bias = data["forget_bias"]
        return cls(
            mode=str(data["mode"]),
            length=int(data["length"]),
            hidden_size=int(data["hidden_size"]),
            forget_bias=None if bias is None else float(bias),
            seed=int(data["seed"]),
            n_sequences=int(data["n_sequences"]),
            norms=tuple(float(v) for v in data["norms"]),
            low=tuple(float(v) for v in data["low"]),
            high=tuple(float(v) for v in data["high"]),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the summary figures added."""
        data = dataclasses.asdict(self)
        data["label"] = self.label
        data["ratio_first_to_last"] = self.norms[0] / self.norms[-1]
        data["decades_lost_per_step"] = self.decades_lost_per_step
        return data


def step_gradient_norms(cell: RecurrentCell, x: Tensor, readout: Tensor) -> Tensor:
    """``‖∂L/∂h_k‖`` for ``L = Σ_b h_T[b] · readout``, run from a zero state.

    Args:
        cell: any cell module.
        x: inputs ``(B, T, I)``.
        readout: ``(H,)``.

    Returns:
        ``(T, B)``: the norm for each step and sequence.
    """
    state = cell.initial_state(x.shape[0], x)
    xp = cell.project(x).unbind(1)
    hidden: list[Tensor] = []
    for xp_t in xp:
        state = cell.step(xp_t, state)
        hidden.append(cell.output(state))
    loss = (hidden[-1] @ readout).sum()
    grads = torch.autograd.grad(loss, hidden)
    return torch.stack([g.norm(dim=1) for g in grads])


def gradient_flow(
    mode: str,
    length: int,
    hidden_size: int = 64,
    seed: int = 0,
    *,
    forget_bias: float | None = None,
    batch_size: int = 32,
    n_inits: int = 4,
) -> GradientFlow:
    """Measure the gradient flow of ``mode`` over ``length`` steps.

    ``n_inits`` networks (seeds ``seed, seed+1, …``), each with PyTorch's initialisation (plus
    ``forget_bias`` for an LSTM), run ``batch_size`` sequences of ``N(0, 1)`` inputs; the readout
    is ``N(0, 1/H)``. The global random state is left as it was.
    """
    _check(mode, length, hidden_size, batch_size, n_inits)
    per_init = []
    with torch.random.fork_rng(devices=[]):
        for i in range(n_inits):
            torch.manual_seed(seed + i)
            cell = make_cell(mode, hidden_size, hidden_size, forget_bias=forget_bias).double()
            x = torch.randn(batch_size, length, hidden_size, dtype=torch.float64)
            readout = torch.randn(hidden_size, dtype=torch.float64) / math.sqrt(hidden_size)
            per_init.append(step_gradient_norms(cell, x, readout).detach())
    norms = torch.cat(per_init, dim=1)  # (T, n_inits·B)
    quantiles = torch.quantile(norms, torch.tensor([0.1, 0.9], dtype=norms.dtype), dim=1)
    return GradientFlow(
        mode=mode,
        length=length,
        hidden_size=hidden_size,
        forget_bias=forget_bias,
        seed=seed,
        n_sequences=norms.shape[1],
        norms=tuple(norms.mean(1).tolist()),
        low=tuple(quantiles[0].tolist()),
        high=tuple(quantiles[1].tolist()),
    )


def _check(mode: str, length: int, hidden_size: int, batch_size: int, n_inits: int) -> None:
    if mode not in MODES:
        raise ConfigError(f"unknown recurrent mode {mode!r}; expected one of {', '.join(MODES)}")
    if length < 2:
        raise ConfigError(f"the sequence length must be at least 2, got {length}")
    if min(hidden_size, batch_size, n_inits) < 1:
        raise ConfigError("hidden_size, batch_size and n_inits must be positive")


def plot_gradient_flow(results: Sequence[GradientFlow], path: str | Path) -> None:
    """Draw ``‖∂L/∂h_k‖`` against ``k`` on a log scale (10–90% band shaded) to a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not results:
        raise ConfigError("nothing to plot: no gradient-flow results")
    fig = Figure(figsize=(7, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for result in results:
        steps = range(1, result.length + 1)
        (line,) = ax.plot(steps, result.norms, label=result.label)
        ax.fill_between(steps, result.low, result.high, color=line.get_color(), alpha=0.15)
    ax.set_yscale("log")
    ax.set_xlabel("step k (the loss is taken at the last step)")
    ax.set_ylabel("‖∂L/∂h_k‖")
    first = results[0]
    ax.set_title(
        f"Gradient flow through time (H={first.hidden_size}, "
        f"{first.n_sequences} random sequences per curve)"
    )
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


class GradientFlowFiles(NamedTuple):
    """Paths written by :func:`write_gradient_flow`."""

    png: Path
    json: Path


def write_gradient_flow(
    out_dir: str | Path,
    modes: Sequence[str],
    length: int,
    *,
    hidden_size: int = 64,
    seed: int = 0,
    lstm_forget_biases: Sequence[float | None] = (None, 1.0, 3.0),
) -> GradientFlowFiles:
    """Measure every mode in ``modes`` and write ``gradient_flow.png`` and ``.json``.

    An LSTM is measured once per entry of ``lstm_forget_biases`` (``None``: PyTorch's
    initialisation, where the forget gate starts near 0.5).
    """
    if not modes:
        raise ConfigError("give at least one mode")
    results = []
    for mode in modes:
        biases = lstm_forget_biases if has_cell_state(mode) else (None,)
        for bias in biases:
            results.append(gradient_flow(mode, length, hidden_size, seed, forget_bias=bias))
    out = Path(out_dir)
    files = GradientFlowFiles(out / PNG_NAME, out / JSON_NAME)
    plot_gradient_flow(results, files.png)
    write_json(
        files.json,
        {
            "what": "mean ‖∂L/∂h_k‖ for k = 1..T, loss = random linear readout of h_T",
            "results": [r.to_json() for r in results],
        },
    )
    return files
