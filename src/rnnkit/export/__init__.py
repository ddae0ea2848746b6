"""``rnnkit export``: a trained run directory as another run directory whose network runs as
int8 (PyTorch's dynamic quantization, :mod:`rnnkit.export.int8`) or in ONNX Runtime
(:mod:`rnnkit.export.graph` and one module per task).

The exported directory is a run directory like any other (docs/design.md §4): ``config.json``
with the source's sections (model, vocabularies, labels, pipeline, …) plus an ``export``
section, ``{"format": "int8" | "onnx", "source": …, "torch": …}``, ``model.safetensors`` and
``metrics.json`` copied from the source. ``rnnkit.load`` rebuilds the task's artifact from the
sections as usual and swaps only its network (:func:`load_exported`): tokenization,
vocabularies, batching, decoding and every ``predict``/``evaluate`` path are the torch model's.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.models.common.artifact import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    RunArtifact,
    load,
    read_run_config,
    write_run_config,
)

__all__ = ["EXPORT_SECTION", "FORMATS", "export_run", "load_exported"]

FORMATS = ("onnx", "int8")
EXPORT_SECTION = "export"
_RESERVED = ("format", "format_version", "rnnkit_version", "task")
_COPIED = ("metrics.json",)


def _task_module(task: str) -> Any:
    return importlib.import_module(f"rnnkit.export.{task}")


def export_run(run_dir: str | Path, fmt: str, out: str | Path) -> Path:
    """Export the run in ``run_dir`` as ``fmt`` (``"onnx"`` or ``"int8"``) into the new run
    directory ``out``, built beside it and renamed into place at the end; returns ``out``.

    Raises:
        RnnkitError: an unknown format, a missing or already exported run, an ``out`` that
            exists and is not empty, or (onnx) no onnxruntime installed.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    src, out = Path(run_dir), Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RnnkitError(f"{out}: already exists and is not empty; choose a new --out")
    doc = read_run_config(src)
    if doc.get(EXPORT_SECTION) is not None:
        raise RnnkitError(f"{src}: already an exported ({doc[EXPORT_SECTION].get('format')}) run")
    if fmt == "onnx":
        from rnnkit.export.graph import require_onnxruntime

        require_onnxruntime()
    artifact = load(src)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        section = _write_network(artifact, fmt, tmp)
        artifact.save_files(tmp)
        sections = {k: v for k, v in doc.items() if k not in _RESERVED}
        sections[EXPORT_SECTION] = {"format": fmt, "source": str(src), **section}
        write_run_config(tmp, doc["task"], sections)
        for name in _COPIED:
            if (src / name).is_file():
                shutil.copyfile(src / name, tmp / name)
        tmp.chmod(0o777 & ~_umask())
        if out.exists():
            out.rmdir()  # empty, checked above
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_network(artifact: RunArtifact[Any], fmt: str, out: Path) -> dict[str, Any]:
    """Write the exported network into ``out``; the extra fields of the ``export`` section."""
    from rnnkit.training.checkpoint import save_weights

    if fmt == "int8":
        from rnnkit.export.int8 import quantize, save_int8

        save_int8(quantize(artifact.model), out / WEIGHTS_FILE)
        return {"torch": torch.__version__, "quantized": "dynamic qint8: Linear, LSTM, GRU"}
    from rnnkit.export.graph import OPSET

    task = _task_module(artifact.TASK)
    task.write_graphs(artifact, out)
    save_weights(task.onnx_backend(artifact.model, out), out / WEIGHTS_FILE)
    return {"torch": torch.__version__, "opset": OPSET, "exporter": "torchscript"}


def load_exported(
    artifact: RunArtifact[Any],
    section: Mapping[str, Any],
    run_dir: Path,
    device: str | torch.device,
) -> None:
    """Swap ``artifact``'s untrained network for the exported one of ``run_dir`` (its
    ``config.json`` ``export`` ``section``); the exported formats run on the CPU only."""
    from rnnkit.training.checkpoint import load_weights

    source = run_dir / CONFIG_FILE
    fmt = section.get("format") if isinstance(section, Mapping) else None
    if fmt not in FORMATS:
        raise DataFormatError(source, f'"export": "format" must be one of {", ".join(FORMATS)}')
    if torch.device(device).type != "cpu":
        raise RnnkitError(f"{run_dir}: an exported ({fmt}) model runs on the CPU, not {device}")
    if fmt == "int8":
        from rnnkit.export.int8 import load_int8

        artifact.model = load_int8(artifact.model, run_dir / WEIGHTS_FILE)
    else:
        backend = _task_module(artifact.TASK).onnx_backend(artifact.model, run_dir)
        load_weights(backend, run_dir / WEIGHTS_FILE)
        artifact.model = backend
    artifact.exported = fmt
