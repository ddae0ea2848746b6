"""Seeding and capturing every random-number generator a training run draws from.

A run is repeatable on one machine when Python's :mod:`random`, NumPy's global generator and
PyTorch's CPU and CUDA generators start from the same seed; an interrupted run continues exactly
when their states are saved with the checkpoint and restored on resume.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["get_rng_state", "seed_everything", "set_rng_state"]


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch (CPU and all CUDA devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device


def get_rng_state() -> dict[str, Any]:
    """The state of every global generator: tuples, ints, NumPy arrays and uint8 tensors."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(legacy=False),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():  # type: ignore[no-untyped-call]
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore states captured by :func:`get_rng_state`.

    CUDA states are restored when the number of devices matches; otherwise a warning says the
    GPU random stream (dropout on the GPU) will differ from the interrupted run.
    """
    random.setstate(_as_python_state(state["python"]))
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if cuda is None:
        return
    if torch.cuda.is_available() and torch.cuda.device_count() == len(cuda):
        torch.cuda.set_rng_state_all([t.cpu() for t in cuda])
    else:
        warnings.warn(
            f"checkpoint holds the random state of {len(cuda)} CUDA device(s) that this machine "
            "does not have; the resumed run's GPU random stream will differ",
            stacklevel=2,
        )


def _as_python_state(value: Any) -> Any:
    # random.setstate insists on tuples all the way down; JSON round trips may give lists.
    if isinstance(value, list | tuple):
        return tuple(_as_python_state(v) for v in value)
    return value
