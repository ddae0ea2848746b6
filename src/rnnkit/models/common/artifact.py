"""Run directories: what a trained model is on disk, and :func:`load` to restore one.

A run directory (design.md §4) holds ``config.json`` and ``model.safetensors`` (plus the
Trainer's ``metrics.json``, ``train_log.jsonl`` and plots). ``config.json`` is::

    {"format": "rnnkit-run", "format_version": 1, "rnnkit_version": "…", "task": "classify",
     "model": {…ClassifierConfig…}, "vocab": {…}, "labels": […], "pipeline": […], …}

Each task registers a loader with :func:`register_loader`; :func:`load` reads ``task`` and calls
it. Nothing is pickled: configs are JSON, weights safetensors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rnnkit import __version__
from rnnkit.config import config_from_dict, config_to_dict
from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.fileio import read_json, write_json
from rnnkit.text.pipeline import Pipeline

__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "config_from_dict",
    "config_to_dict",
    "load",
    "read_pipeline",
    "read_run_config",
    "read_strings",
    "register_loader",
    "write_run_config",
]

FORMAT = "rnnkit-run"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

_LOADERS: dict[str, Callable[[Path], Any]] = {}


def write_run_config(run_dir: str | Path, task: str, sections: Mapping[str, Any]) -> Path:
    """Write ``run_dir/config.json`` (atomically) for ``task`` with ``sections`` (JSON values)."""
    reserved = {"format", "format_version", "rnnkit_version", "task"} & set(sections)
    if reserved:
        raise ConfigError(f"run config sections may not be named {sorted(reserved)}")
    path = Path(run_dir) / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "rnnkit_version": __version__,
        "task": task,
        **sections,
    }
    write_json(path, doc)
    return path


def read_run_config(run_dir: str | Path, task: str | None = None) -> dict[str, Any]:
    """Read and check ``run_dir/config.json``; with ``task``, insist on that task."""
    path = Path(run_dir) / CONFIG_FILE
    if not Path(run_dir).is_dir():
        raise RnnkitError(f"{run_dir}: not a run directory (no such directory)")
    if not path.is_file():
        raise DataFormatError(path, "missing: is this a run directory of rnnkit train?")
    doc = read_json(path)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataFormatError(path, f'not an rnnkit run config (expected "format": "{FORMAT}")')
    if doc.get("format_version") != FORMAT_VERSION:
        raise DataFormatError(
            path,
            f"format_version {doc.get('format_version')!r} is not {FORMAT_VERSION}: written by "
            f"rnnkit {doc.get('rnnkit_version', '?')}, read by {__version__}",
        )
    if not isinstance(doc.get("task"), str):
        raise DataFormatError(path, 'missing "task"')
    if task is not None and doc["task"] != task:
        raise DataFormatError(path, f"this run is a {doc['task']!r} model, not {task!r}")
    return doc


def read_strings(doc: Mapping[str, Any], key: str, source: Path) -> list[str]:
    """``doc[key]`` checked to be a non-empty list of strings."""
    value = doc.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
        raise DataFormatError(source, f'"{key}" must be a non-empty list of strings')
    return value


def read_pipeline(spec: Any, source: Path) -> Pipeline:
    """The preprocessing pipeline saved as ``spec``; a bad one is the run file's error."""
    try:
        return Pipeline.from_config(spec)
    except ConfigError as err:
        raise DataFormatError(source, f"bad pipeline: {err}") from None


def register_loader(task: str, loader: Callable[[Path], Any]) -> None:
    """Make :func:`load` restore run directories of ``task`` with ``loader(run_dir)``."""
    _LOADERS[task] = loader


def load(path: str | Path) -> Any:
    """Restore the trained model in run directory ``path`` (whatever its task)."""
    import rnnkit.models  # noqa: F401  (registers the loaders of every task)

    task = read_run_config(path)["task"]
    if task not in _LOADERS:
        raise RnnkitError(f"{path}: no loader for task {task!r} in rnnkit {__version__}")
    return _LOADERS[task](Path(path))
