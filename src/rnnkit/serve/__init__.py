"""``rnnkit serve``: trained models over HTTP, with micro-batching, limits, auth, metrics and a
web page (see :mod:`rnnkit.serve.app`)."""

from __future__ import annotations

from rnnkit.serve.app import create_app
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.models import ServedModel, load_models, parse_spec

__all__ = ["ServeConfig", "ServedModel", "create_app", "load_models", "parse_spec"]
