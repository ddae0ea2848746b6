"""Writing a network to an ONNX file and running it with ONNX Runtime.

The exporter is PyTorch's TorchScript-based one, ``torch.onnx.export(..., dynamo=False)``: on
torch 2.13 it exports the fused LSTM/GRU kernels as ONNX ``LSTM``/``GRU`` nodes (the GRU with
``linear_before_reset=1``, as PyTorch's GRU computes) and follows both padding-aware paths of
:class:`~rnnkit.nn.RNN`: ``forward`` with lengths packs the batch, which becomes the ONNX RNN's
``sequence_lens`` input (final states at each sequence's own last token); ``outputs`` runs each
direction on the padded batch, the backward one reversed within each length by a gather whose
indices come from the lengths at run time. Either way a padded batch runs exactly as in PyTorch.
The dynamo exporter (``dynamo=True``, torch's default) needs the ``onnxscript`` package, one more
dependency, and was not needed. Every batch and length axis is declared dynamic; the parity
tests (``tests/export``) export at one length and run at others, so a time axis frozen into a
constant shows.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.fileio import atomic_path

__all__ = ["OPSET", "OnnxGraph", "device_anchor", "export_graph", "require_onnxruntime"]

OPSET = 17
_INSTALL = "pip install rnnkit[onnx]"


def require_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or a clear error saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise RnnkitError(f"the onnx format needs onnx and onnxruntime: {_INSTALL}") from None
    return onnxruntime


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence the exporter's C++ shape-inference warnings (``prim::PackPadded``), which go to
    file descriptor 2 and would bury the command's own output; Python exceptions still raise."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def export_graph(
    module: nn.Module,
    args: tuple[Tensor, ...],
    path: Path,
    inputs: Mapping[str, Mapping[int, str]],
    outputs: Mapping[str, Mapping[int, str]],
) -> None:
    """Trace ``module(*args)`` in eval mode into the ONNX file ``path`` (atomically).

    Args:
        inputs: each input's name (in the order of ``args``) and its dynamic axes
            (``{0: "batch", 1: "time"}``).
        outputs: each output's name and dynamic axes, in the order the module returns them.
    """
    require_onnxruntime()
    module.eval()
    with atomic_path(path) as tmp, torch.no_grad(), _quiet_native_stderr():
        torch.onnx.export(
            module,
            args,
            str(tmp),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes={name: dict(axes) for name, axes in {**inputs, **outputs}.items()},
            do_constant_folding=True,
        )


class OnnxGraph:
    """One ONNX file run by ONNX Runtime on the CPU, fed and answering torch tensors.

    Each call runs on one thread (the caller's): the graphs here are small recurrent networks,
    whose kernels gain little from ONNX Runtime's intra-op thread pool and pay for waking it on
    every call (one 20-token sentence took 0.74–0.83 ms on one thread, 0.74–0.96 ms on two;
    benchmarks/RESULTS.md, issue 16). Several cores are used by running several batches at once
    instead (``RunArtifact.batch_workers``): ``session.run`` releases the GIL and may be called
    from several threads.

    Args:
        path: the ``.onnx`` file.
        threads: intra-op threads of one call (default 1).
    """

    def __init__(self, path: Path, threads: int = 1) -> None:
        ort = require_onnxruntime()
        if not path.is_file():
            raise DataFormatError(path, "missing: the exported run directory is incomplete")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own exception types
            raise DataFormatError(path, f"not a loadable ONNX model: {err}") from None
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.path = path

    def __call__(self, **feed: Tensor | None) -> list[Tensor]:
        """Run on the named inputs (those the exporter dropped as unused are ignored, and may
        be ``None``); the outputs in graph order."""
        arrays = {}
        for name in self.inputs:
            value = feed.get(name)
            if value is None:
                raise ConfigError(f"{self.path.name} needs the input {name!r}")
            arrays[name] = _numpy(value)
        return [torch.from_numpy(np.asarray(y)) for y in self.session.run(None, arrays)]


def device_anchor() -> nn.Parameter:
    """An empty parameter for a module whose network runs in ONNX Runtime, so that code asking
    a model for its device (``next(model.parameters()).device``) finds the CPU."""
    return nn.Parameter(torch.zeros(0), requires_grad=False)


def _numpy(x: Tensor) -> np.ndarray:
    x = x.detach().cpu()
    return (x.long() if not x.is_floating_point() else x.float()).contiguous().numpy()
