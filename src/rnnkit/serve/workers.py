"""``rnnkit serve --workers N``: N uvicorn worker processes sharing one listening socket.

uvicorn starts each worker with ``multiprocessing``'s *spawn* (a fresh interpreter), so a worker
cannot inherit the parent's loaded models or app: it builds its own from an environment
variable (:data:`WORKER_ENV`, the model specs and the :class:`ServeConfig` as JSON) in
:func:`create_worker_app`, the factory uvicorn imports by name. Every worker loads every model
(memory grows with N); the parent loads them once beforehand only to report bad run directories
as ordinary errors, then lets them go.

Metrics: the workers run prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, a
temporary directory of the parent removed when it exits), so ``/metrics``, whichever worker
answers it, gives the counters and histograms summed over all workers.

Shutdown: on SIGTERM (or SIGINT) uvicorn's supervisor sends SIGTERM to every worker; each
stops accepting, lets its in-flight requests finish, and exits; then the parent returns, and
``rnnkit serve`` exits 0. A worker that dies is replaced by the supervisor.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence

from fastapi import FastAPI

from rnnkit.errors import RnnkitError
from rnnkit.serve.app import create_app
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.metrics import MULTIPROC_ENV
from rnnkit.serve.models import load_models

__all__ = ["WORKER_ENV", "create_worker_app", "serve_workers"]

WORKER_ENV = "RNNKIT_SERVE_WORKER"
# uvicorn's exit status for "the app did not start": its supervisor then stops instead of
# restarting the worker forever
STARTUP_FAILURE = 3


def create_worker_app() -> FastAPI:
    """The app of one worker process, from :data:`WORKER_ENV` (set by :func:`serve_workers`)."""
    try:
        spec = json.loads(os.environ[WORKER_ENV])
        config = ServeConfig(**spec["config"])
        return create_app(load_models(spec["specs"]), config)
    except (KeyError, ValueError, RnnkitError) as err:
        print(f"rnnkit: error: worker {os.getpid()}: {err}", file=sys.stderr)
        raise SystemExit(STARTUP_FAILURE) from None


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (spawned workers inherit it), restored afterwards."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def serve_workers(
    specs: Sequence[str], config: ServeConfig, host: str, port: int, workers: int
) -> None:
    """Serve the models of ``specs`` on ``host:port`` from ``workers`` processes until SIGTERM
    or SIGINT (see the module docstring)."""
    import uvicorn

    with tempfile.TemporaryDirectory(prefix="rnnkit-serve-metrics-") as metrics_dir:
        env = {
            WORKER_ENV: json.dumps({"specs": list(specs), "config": dataclasses.asdict(config)}),
            MULTIPROC_ENV: metrics_dir,
        }
        with _environment(env):
            uvicorn.run(
                f"{__name__}:create_worker_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
