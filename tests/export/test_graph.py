"""ONNX plumbing: a clear error without onnxruntime, and for a missing or broken graph file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rnnkit.errors import DataFormatError, RnnkitError
from rnnkit.export.graph import OnnxGraph, require_onnxruntime


def test_without_onnxruntime_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(RnnkitError, match=r"pip install rnnkit\[onnx\]"):
        require_onnxruntime()


def test_a_missing_or_broken_graph_names_the_file(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    with pytest.raises(DataFormatError, match=r"tagger\.onnx.*missing"):
        OnnxGraph(tmp_path / "tagger.onnx")
    (tmp_path / "tagger.onnx").write_bytes(b"not a model")
    with pytest.raises(DataFormatError, match="not a loadable ONNX model"):
        OnnxGraph(tmp_path / "tagger.onnx")
