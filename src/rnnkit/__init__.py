"""rnnkit: recurrent neural networks for natural-language processing."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

try:
    __version__ = version("rnnkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "load"]


def load(path: str | Path) -> Any:
    """Restore the trained model in run directory ``path``, whatever its task (a
    :class:`~rnnkit.models.TextClassifier` for ``classify`` runs, …). Imports torch on first use,
    so ``import rnnkit`` stays light."""
    from rnnkit.models.common.artifact import load as load_run

    return load_run(path)
