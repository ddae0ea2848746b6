"""Checkpoints without pickles: tensors in safetensors, everything else in JSON.

A checkpoint is a nested state (dicts, lists, tuples, numbers, strings, tensors, NumPy arrays) split
in two files in the run directory:

- ``checkpoint-<nonce>.safetensors``: every tensor (model weights, optimizer moments, PyTorch's
  uint8 RNG states), under its path in the state (``model/encoder.weight``);
- ``checkpoint.json``: the rest, with ``{"__tensor__": name}`` where a tensor was, plus the name and
  the random nonce of the tensor file it belongs to.

Both are written atomically, tensors first. The JSON, renamed last, is the commit point: a run
killed at any moment leaves a ``checkpoint.json`` that names a complete tensor file with the same
nonce (the previous one until the rename, the new one after it). Tensor files no longer named are
removed after the commit.
"""

from __future__ import annotations

import json
import math
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes
from safetensors.torch import save_file

from rnnkit.errors import ConfigError, DataFormatError, RnnkitError
from rnnkit.fileio import atomic_path, read_json, write_text

__all__ = [
    "CHECKPOINT_FILE",
    "FORMAT_VERSION",
    "decode_state",
    "encode_state",
    "has_checkpoint",
    "load_checkpoint",
    "load_tensors",
    "load_weights",
    "pack_state",
    "save_checkpoint",
    "save_tensors",
    "save_weights",
    "unpack_state",
]

FORMAT_VERSION = 1
CHECKPOINT_FILE = "checkpoint.json"
_TENSOR_FILE = re.compile(r"^checkpoint-[0-9a-f]{16}\.safetensors$")
_MARKERS = ("__tensor__", "__tuple__", "__dict__", "__float__", "__ndarray__")


def encode_state(state: Any, prefix: str = "") -> tuple[Any, dict[str, torch.Tensor]]:
    """Split ``state`` into a JSON-able document and a flat ``{name: tensor}`` dict.

    Tuples, dicts with non-string keys, non-finite floats and NumPy arrays are tagged so that
    :func:`decode_state` gives back the same types.
    """
    tensors: dict[str, torch.Tensor] = {}
    return _encode(state, prefix, tensors), tensors


def _encode(obj: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        name = path or "tensor"
        while name in tensors:  # keys with "/" can give two paths the same name
            name = f"{name}#{len(tensors)}"
        tensors[name] = obj
        return {"__tensor__": name}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": obj.tolist(), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{path}/{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}/{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and k not in _MARKERS for k in obj):
            return {k: _encode(v, _join(path, k), tensors) for k, v in obj.items()}
        return {
            "__dict__": [
                [_encode(k, "", {}), _encode(v, _join(path, str(k)), tensors)]
                for k, v in obj.items()
            ]
        }
    raise ConfigError(f"cannot store a {type(obj).__name__} at {path or '/'} in a checkpoint")


def _join(path: str, key: str) -> str:
    return f"{path}/{key}" if path else key


def decode_state(doc: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """Inverse of :func:`encode_state`.

    Raises:
        KeyError: ``doc`` names a tensor that ``tensors`` lacks.
    """
    if isinstance(doc, list):
        return [decode_state(v, tensors) for v in doc]
    if not isinstance(doc, dict):
        return doc
    if "__tensor__" in doc:
        return tensors[doc["__tensor__"]]
    if "__tuple__" in doc:
        return tuple(decode_state(v, tensors) for v in doc["__tuple__"])
    if "__float__" in doc:
        return float(doc["__float__"])
    if "__ndarray__" in doc:
        return np.asarray(doc["__ndarray__"], dtype=np.dtype(doc["dtype"]))
    if "__dict__" in doc:
        return {decode_state(k, tensors): decode_state(v, tensors) for k, v in doc["__dict__"]}
    return {k: decode_state(v, tensors) for k, v in doc.items()}


def save_tensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Write ``tensors`` to a safetensors file atomically (on the CPU, shared storage copied)."""
    with atomic_path(path) as tmp:
        save_file(_storable(tensors), str(tmp), metadata=metadata)


def _storable(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``tensors`` as safetensors takes them: detached, on the CPU, contiguous, none sharing
    memory with another."""
    seen: set[int] = set()
    flat: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        t = tensor.detach().cpu()
        ptr = t.untyped_storage().data_ptr()
        # safetensors refuses tensors that share memory (tied weights, views): copy the later ones.
        if t.numel() and ptr in seen:
            t = t.clone()
        seen.add(ptr)
        flat[name] = t.contiguous()
    return flat


def pack_state(state: Any) -> bytes:
    """``state`` (as :func:`encode_state` takes it) as bytes, to send to another process: the
    JSON document's length (8 bytes, little-endian), the document, then the tensors in the
    safetensors format. No pickle, so a peer's bytes run no code when read."""
    doc, tensors = encode_state(state)
    header = json.dumps(doc, allow_nan=False, ensure_ascii=False).encode()
    return len(header).to_bytes(8, "little") + header + save_bytes(_storable(tensors))


def unpack_state(data: bytes) -> Any:
    """Inverse of :func:`pack_state` (tensors on the CPU)."""
    size = int.from_bytes(data[:8], "little")
    doc = json.loads(data[8 : 8 + size].decode())
    return decode_state(doc, load_bytes(data[8 + size :]))


def load_tensors(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a safetensors file onto the CPU: ``(tensors, metadata)``.

    Raises:
        DataFormatError: the file is missing or is not a valid safetensors file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            # Copies, not views of the memory-mapped file: the file may be replaced or removed.
            return {k: f.get_tensor(k).clone() for k in f.keys()}, metadata  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as err:
        raise DataFormatError(path, f"not a readable safetensors file ({err})") from err


def save_weights(module: torch.nn.Module, path: str | Path) -> None:
    """Write ``module``'s state dict to ``path`` (safetensors, atomically)."""
    save_tensors(path, module.state_dict(), metadata={"format": "pt"})


def load_weights(module: torch.nn.Module, path: str | Path) -> None:
    """Load weights saved by :func:`save_weights` into ``module`` (strict: names and shapes match).

    Raises:
        DataFormatError: the file is unreadable or does not fit the module.
    """
    tensors, _ = load_tensors(path)
    try:
        module.load_state_dict(tensors)
    except RuntimeError as err:
        raise DataFormatError(path, f"weights do not fit the model: {err}") from err


def has_checkpoint(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds a committed checkpoint."""
    return (Path(run_dir) / CHECKPOINT_FILE).is_file()


def save_checkpoint(run_dir: str | Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` as a checkpoint in ``run_dir`` (see the module docstring).

    Returns:
        The path of ``checkpoint.json``.
    """
    run_dir = Path(run_dir)
    nonce = secrets.token_hex(8)
    doc, tensors = encode_state(state)
    tensor_name = f"checkpoint-{nonce}.safetensors"
    save_tensors(run_dir / tensor_name, tensors, metadata={"nonce": nonce})
    header = {"format_version": FORMAT_VERSION, "tensors": tensor_name, "nonce": nonce}
    text = json.dumps({**header, "state": doc}, allow_nan=False, ensure_ascii=False, indent=1)
    json_path = run_dir / CHECKPOINT_FILE
    write_text(json_path, text + "\n")
    for stale in run_dir.glob("checkpoint-*.safetensors"):
        if stale.name != tensor_name and _TENSOR_FILE.match(stale.name):
            stale.unlink(missing_ok=True)
    return json_path


def load_checkpoint(run_dir: str | Path) -> dict[str, Any]:
    """Read the checkpoint committed in ``run_dir``.

    Raises:
        RnnkitError: there is no checkpoint.
        DataFormatError: the checkpoint is damaged, of another format version, or its two files
            do not belong together.
    """
    json_path = Path(run_dir) / CHECKPOINT_FILE
    if not json_path.is_file():
        raise RnnkitError(f"{run_dir}: no checkpoint to resume from ({CHECKPOINT_FILE} is missing)")
    doc = read_json(json_path)
    if not isinstance(doc, dict) or not {"format_version", "tensors", "nonce", "state"} <= set(doc):
        raise DataFormatError(json_path, "not an rnnkit checkpoint (keys missing)")
    if doc["format_version"] != FORMAT_VERSION:
        raise DataFormatError(
            json_path, f"checkpoint format {doc['format_version']}, expected {FORMAT_VERSION}"
        )
    if not isinstance(doc["tensors"], str) or not _TENSOR_FILE.match(doc["tensors"]):
        raise DataFormatError(json_path, f"bad tensor file name {doc['tensors']!r}")
    tensors, metadata = load_tensors(json_path.parent / doc["tensors"])
    if metadata.get("nonce") != doc["nonce"]:
        raise DataFormatError(json_path, f"{doc['tensors']} does not belong to this checkpoint")
    try:
        state: dict[str, Any] = decode_state(doc["state"], tensors)
    except KeyError as err:
        raise DataFormatError(json_path, f"tensor {err} missing from {doc['tensors']}") from err
    return state
