"""``rnnkit serve``: trained models over HTTP.

The app is FastAPI (:mod:`rnnkit.serve.app`): it gives the OpenAPI schema (``/openapi.json``, the
``/docs`` page) and request validation through pydantic models, so bad types and over-limit
values are rejected before a handler runs. The server is uvicorn, the well-kept ASGI server
FastAPI is made for (HTTP/1.1 on httptools when installed, else h11; on SIGTERM it stops
accepting, lets in-flight requests finish, and the command exits 0). ``--workers N`` runs N
uvicorn worker processes (:mod:`rnnkit.serve.workers`).
"""

from __future__ import annotations

import ipaddress
import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from rnnkit.cli.common import app

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve(
    run_dirs: Annotated[
        list[str], typer.Argument(help="Run directories to serve: RUN_DIR or NAME=RUN_DIR.")
    ],
    host: Annotated[str, typer.Option(help="Address to bind (default: loopback only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to bind.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Worker processes, each loading every model; /metrics sums them all."
        ),
    ] = 1,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="RNNKIT_SERVE_TOKEN",
            help="Require 'Authorization: Bearer TOKEN' on /v1/ and /metrics.",
        ),
    ] = None,
    max_batch: Annotated[int, typer.Option(min=1, help="Texts per micro-batch.")] = 32,
    max_wait_ms: Annotated[
        float,
        typer.Option(
            min=0.0, help="Extra wait for more requests once several arrive together (0: none)."
        ),
    ] = 0.0,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body (413 beyond).")
    ] = 1_000_000,
    max_texts: Annotated[int, typer.Option(min=1, help="Texts per request (422 beyond).")] = 64,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Characters per text (422 beyond).")
    ] = 10_000,
    max_length: Annotated[
        int, typer.Option(min=1, help="Tokens a language model may generate (422 beyond).")
    ] = 500,
    max_beam: Annotated[int, typer.Option(min=1, help="Largest beam (422 beyond).")] = 10,
    timeout: Annotated[
        float, typer.Option(min=0.001, help="Seconds a request may wait (503 beyond).")
    ] = 30.0,
) -> None:
    """Serve trained models over HTTP: a JSON API, Prometheus metrics and a web page at /.

    Example: rnnkit serve runs/tweets tagger=runs/pos --port 8000 --workers 2
    """
    import uvicorn

    from rnnkit.serve import ServeConfig, create_app, load_models
    from rnnkit.serve.workers import serve_workers

    config = ServeConfig(
        max_batch=max_batch, max_wait_ms=max_wait_ms, max_body_bytes=max_body_bytes,
        max_texts=max_texts, max_chars=max_chars, max_length=max_length, max_beam=max_beam,
        timeout_s=timeout, token=token,
    )  # fmt: skip
    models = load_models(run_dirs)
    if not is_loopback(host) and token is None:
        warning = f"serving on {host} without --token: anyone who can reach it can use the models"
        print(f"rnnkit: warning: {warning}", file=sys.stderr)
    for served in models.values():
        print(f"rnnkit: serving {served.name} ({served.task})", file=sys.stderr)
    if workers > 1:  # each worker loads its own copy; these only checked the run directories
        del models
        serve_workers(run_dirs, config, host, port, workers)
        return
    # uvicorn drains in-flight requests on SIGTERM, then raises the signal again under the
    # handler it found: make that handler exit 0, since the shutdown was clean
    previous = signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.run(create_app(models, config), host=host, port=port, log_level="info")
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
