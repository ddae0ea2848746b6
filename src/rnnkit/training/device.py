"""Choosing the device, moving batches onto it, and bf16 autocast.

The device is always an argument (never a global): ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or
``"auto"`` (CUDA when present, else CPU).
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Iterator
from typing import Any, TypeVar

import torch

from rnnkit.errors import ConfigError

__all__ = ["autocast", "move_to_device", "resolve_bf16", "resolve_device"]

T = TypeVar("T")


def resolve_device(spec: str | torch.device = "auto") -> torch.device:
    """The :class:`torch.device` that ``spec`` names; ``"auto"`` picks CUDA when available.

    Raises:
        ConfigError: an unknown name, or CUDA requested on a machine without it.
    """
    if isinstance(spec, torch.device):
        spec = str(spec)
    name = spec.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"device {spec!r} requested but CUDA is not available here "
                "(no GPU, or a CPU-only PyTorch build); use --device cpu or auto"
            )
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"device {spec!r} requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) exist"
            )
        return device
    raise ConfigError(f"unknown device {spec!r}; use 'cpu', 'cuda', 'cuda:N' or 'auto'")


def resolve_bf16(bf16: bool, device: torch.device, requested: str | torch.device) -> bool:
    """Whether to run bf16 autocast: only on CUDA.

    bf16 with an explicit CPU device is a :class:`ConfigError`; with ``"auto"`` that fell back to
    the CPU it is switched off with a warning, so one config serves both kinds of machine.
    """
    if not bf16 or device.type == "cuda":
        return bf16
    if str(requested).strip().lower() == "auto":
        warnings.warn("bf16 autocast needs CUDA; running in float32 on the CPU", stacklevel=2)
        return False
    raise ConfigError(f"bf16 autocast is supported on CUDA only, not on device {str(device)!r}")


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """``torch.autocast`` to bfloat16 on CUDA when ``enabled``; a no-op otherwise."""
    if enabled and device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def move_to_device(batch: T, device: torch.device) -> T:
    """A copy of ``batch`` with every tensor moved to ``device``.

    Walks tensors, lists, tuples (named ones too), dicts and dataclass instances; other values are
    returned unchanged.
    """
    return _move(batch, device)  # type: ignore[no-any-return]


def _move(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        # non_blocking is safe only towards the GPU (a GPU-to-host copy may be read too early).
        return obj.to(device, non_blocking=device.type == "cuda")
    if isinstance(obj, dict):
        return type(obj)((k, _move(v, device)) for k, v in obj.items())
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_move(v, device) for v in obj))
    if isinstance(obj, list | tuple):
        return type(obj)(_move(v, device) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [f for f in dataclasses.fields(obj) if f.init]
        changes = {f.name: _move(getattr(obj, f.name), device) for f in fields}
        return dataclasses.replace(obj, **changes)
    return obj
