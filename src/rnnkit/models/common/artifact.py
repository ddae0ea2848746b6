"""Run directories: what a trained model is on disk, the base of the four text wrappers, and
:func:`load` to restore any of them.

A run directory (docs/design.md §4) holds ``config.json`` and ``model.safetensors`` (plus the
Trainer's ``metrics.json``, ``train_log.jsonl`` and plots). ``config.json`` is::

    {"format": "rnnkit-run", "format_version": 1, "rnnkit_version": "…", "task": "classify",
     "model": {…ClassifierConfig…}, "vocab": {…}, "labels": […], "pipeline": […], …}

Each task's wrapper (``TextClassifier``, ``TextTagger``, ``TextLM``, ``Translator``) derives from
:class:`RunArtifact`, which owns saving, loading, ``eval()`` and the format checks; a task adds
only its own sections (:meth:`RunArtifact.sections`) and how to rebuild an untrained network
from them (:meth:`RunArtifact.from_sections`). Each task registers its loader with
:func:`register_loader`; :func:`load` reads ``task`` and calls it. Nothing is pickled: configs
are JSON, weights safetensors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

import torch

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
    "RunArtifact",
    "config_from_dict",
    "config_to_dict",
    "load",
    "read_pipeline",
    "read_run_config",
    "read_strings",
    "register_loader",
    "run_format",
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


def run_format(doc: Mapping[str, Any]) -> str:
    """How a run directory's network is stored, from its ``config.json``: the ``export.format``
    that ``rnnkit export`` recorded (``"int8"``, ``"onnx"``), else ``"torch"``."""
    export = doc.get("export")
    if isinstance(export, dict) and isinstance(export.get("format"), str):
        return str(export["format"])
    return "torch"


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


M = TypeVar("M", bound=torch.nn.Module)


class RunArtifact(ABC, Generic[M]):
    """A trained network with everything it needs to read raw text, saved as a run directory.

    Subclasses set :attr:`TASK`, keep their network in ``self.model``, and implement
    :meth:`sections` (the JSON sections of ``config.json`` this task writes) and
    :meth:`from_sections` (an untrained instance rebuilt from those sections). Saving, loading
    and the format checks are here, once for every task.
    """

    TASK: ClassVar[str]
    model: M
    #: ``"int8"`` or ``"onnx"`` when loaded from an exported run directory (rnnkit.export)
    exported: str | None = None

    @property
    def batch_workers(self) -> int:
        """Batches the prediction methods run at once (``run_in_order``'s ``workers``): for an
        ONNX model one per PyTorch CPU thread (``torch.get_num_threads()``, set by
        ``--threads``), each graph call on one thread of its own (:class:`OnnxGraph`); 1 for a
        torch or int8 model, whose kernels use the threads inside each batch instead."""
        return torch.get_num_threads() if self.exported == "onnx" else 1

    @abstractmethod
    def sections(self) -> dict[str, Any]:
        """This task's sections of ``config.json`` (JSON values), e.g. ``model``, ``vocab``."""

    @classmethod
    @abstractmethod
    def from_sections(cls, doc: Mapping[str, Any], source: Path, run_dir: Path) -> Self:
        """An instance with an untrained network, rebuilt from a run's ``config.json`` ``doc``
        (``source`` names the file in error messages; side files are read from ``run_dir``)."""

    def save_files(self, run_dir: Path) -> None:
        """Write files beside ``config.json`` that this task needs (none by default)."""

    def save(
        self, run_dir: str | Path, extra: Mapping[str, Any] | None = None, weights: bool = True
    ) -> None:
        """Write ``config.json`` (this task's sections and the ``extra`` ones, e.g. ``train``),
        the side files and, with ``weights``, ``model.safetensors`` into ``run_dir``, each
        atomically."""
        from rnnkit.training.checkpoint import save_weights

        if self.exported is not None:
            raise RnnkitError(
                f"a model loaded from an exported ({self.exported}) run cannot be saved"
            )
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self.save_files(run_dir)
        write_run_config(run_dir, self.TASK, {**self.sections(), **(extra or {})})
        if weights:
            save_weights(self.model, run_dir / WEIGHTS_FILE)

    @classmethod
    def load(cls, run_dir: str | Path, device: str | torch.device = "cpu") -> Self:
        """Restore what :meth:`save` wrote (or ``rnnkit train``), in eval mode on ``device``."""
        from rnnkit.training.checkpoint import load_weights

        doc = read_run_config(run_dir, cls.TASK)
        artifact = cls.from_sections(doc, Path(run_dir) / CONFIG_FILE, Path(run_dir))
        if doc.get("export") is not None:  # written by rnnkit export: int8 or ONNX
            from rnnkit.export import load_exported

            load_exported(artifact, doc["export"], Path(run_dir), device)
            return artifact.eval()
        load_weights(artifact.model, Path(run_dir) / WEIGHTS_FILE)
        artifact.model.to(device)
        return artifact.eval()

    def eval(self) -> Self:
        """Put the network in eval mode (no dropout); returns ``self``."""
        self.model.eval()
        return self


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
