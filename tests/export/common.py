"""What the export tests share: a model saved, exported and loaded back."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

import rnnkit
from rnnkit.export import export_run
from rnnkit.models.common.artifact import RunArtifact

FORMATS = ["onnx", "int8"]


def needs(fmt: str) -> None:
    """Skip an ONNX test where onnxruntime is not installed."""
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")


def exported(artifact: RunArtifact[Any], tmp_path: Path, fmt: str) -> Any:
    """``artifact`` saved as a run, exported as ``fmt`` and loaded with ``rnnkit.load``."""
    needs(fmt)
    run = tmp_path / "run"
    if not run.exists():
        artifact.save(run)
    out = export_run(run, fmt, tmp_path / fmt)
    loaded = rnnkit.load(out)
    assert loaded.exported == fmt and type(loaded) is type(artifact)
    return loaded


def random_sentences(words: list[str], n: int, seed: int, longest: int = 30) -> list[list[str]]:
    """``n`` sentences of 1..``longest`` random ``words`` (lengths unlike the exporter's)."""
    rng = random.Random(seed)
    return [[rng.choice(words) for _ in range(rng.randint(1, longest))] for _ in range(n)]
