"""Run directories: what a trained model is on disk, and :func:`load` to restore one.

A run directory (design.md §4) holds ``config.json`` and ``model.safetensors`` (plus the
Trainer's ``metrics.json``, ``train_log.jsonl`` and plots). ``config.json`` is::

    {"format": "rnnkit-run", "format_version": 1, "rnnkit_version": "…", "task": "classify",
     "model": {…ClassifierConfig…}, "vocab": {…}, "labels": […], "pipeline": […], …}

Each task registers a loader with :func:`register_loader`; :func:`load` reads ``task`` and calls
it. Nothing is pickled: configs are JSON, weights safetensors.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from rnnkit import __version__
from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.fileio import read_json, write_json

__all__ = [
    "CONFIG_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS_FILE",
    "config_from_dict",
    "config_to_dict",
    "load",
    "read_run_config",
    "register_loader",
    "write_run_config",
]

FORMAT = "rnnkit-run"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"

T = TypeVar("T")
_LOADERS: dict[str, Callable[[Path], Any]] = {}


def config_to_dict(config: Any) -> dict[str, Any]:
    """A frozen config dataclass as a JSON-ready dict (nested dataclasses as dicts)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f"expected a dataclass instance, got {type(config).__name__}")
    return dataclasses.asdict(config)


def config_from_dict(cls: type[T], data: Any, source: str | Path = "<config>", key: str = "") -> T:
    """Rebuild the dataclass ``cls`` from ``data``; unknown keys or bad values raise
    :class:`~rnnkit.errors.DataFormatError` naming ``source`` and the ``key`` path."""
    where = key or cls.__name__
    if not isinstance(data, Mapping):
        raise DataFormatError(source, f'"{where}" must be a JSON object')
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise DataFormatError(source, f'unknown keys in "{where}": {", ".join(unknown)}')
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        nested = _dataclass_in(hints[name])
        if nested is not None and isinstance(value, Mapping):
            value = config_from_dict(nested, value, source, f"{where}.{name}")
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    try:
        return cls(**values)
    except (ConfigError, TypeError, ValueError) as err:
        raise DataFormatError(source, f'bad "{where}": {err}') from None


def _dataclass_in(hint: Any) -> type | None:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return hint
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        for arg in typing.get_args(hint):
            found = _dataclass_in(arg)
            if found is not None:
                return found
    return None


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
