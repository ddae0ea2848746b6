"""The outermost ASGI layer of ``rnnkit serve`` (:class:`GuardMiddleware`) and the JSON error
answers it shares with the application (:mod:`rnnkit.serve.app`).

The guard counts every request in the metrics, checks the bearer token, the content type and the
body limit before anything parses the body, and answers ``POST /v1/models/{name}/predict`` itself
(:func:`read_body` reads the body as FastAPI would), so that the per-request work which
micro-batching does not share stays small; every other request goes on to FastAPI.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Awaitable, Callable, Collection, MutableMapping, Sequence
from typing import Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from rnnkit.serve.config import ServeConfig
from rnnkit.serve.metrics import Metrics

__all__ = [
    "GuardMiddleware",
    "Predictor",
    "error_body",
    "http_response",
    "internal_response",
    "invalid_response",
    "read_body",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_PREDICT = re.compile(r"^/v1/models/([^/]+)/predict$")  # the name as FastAPI's {name} matches it


def _is_json(headers: dict[bytes, bytes]) -> bool:
    """Whether a request's ``headers`` say its body is JSON (``application/json`` or
    ``…+json``)."""
    value = headers.get(b"content-type", b"")
    media = value.split(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def error_body(status: int, message: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message, "status": status}
    if details is not None:
        body["details"] = details
    return body


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: Any = ()) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


Predictor = Callable[[str, bytes], Awaitable[Response]]
"""Answers ``POST /v1/models/{name}/predict`` from the model name and the raw body."""


class GuardMiddleware:
    """Outermost layer: metrics of every request, then the token check and the body limit, before
    anything parses the body; then ``POST /v1/models/{name}/predict`` is answered here by
    ``predict`` and every other request goes on to FastAPI.

    The predict requests skip FastAPI's layers (its exception middlewares, router, dependency
    solving, response validation): work per request that micro-batching does not share, and
    most of the event loop's time per request under load. ``predict`` reads the body with the
    same model and the same errors as FastAPI (:func:`read_body`); FastAPI still declares the
    route, for the OpenAPI schema and the 405 of other methods."""

    def __init__(
        self,
        app: ASGIApp,
        config: ServeConfig,
        metrics: Metrics,
        predict: Predictor,
        static: Collection[str] = (),
    ) -> None:
        self.app, self.config, self.metrics, self.predict = app, config, metrics, predict
        self.static = frozenset(static)

    def _endpoint(self, path: str) -> str:
        """The metrics label of ``path``: a ``static`` path, the predict route or ``other``,
        never the raw path (bounded label values)."""
        if path in self.static:
            return path
        return "/v1/models/{name}/predict" if _PREDICT.match(path) else "other"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        endpoint = self._endpoint(scope["path"])
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._guarded(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.observe_request(scope["method"], endpoint, status, seconds)

    def _authorized(self, path: str, headers: dict[bytes, bytes]) -> bool:
        token = self.config.token
        if token is None or not (path.startswith("/v1/") or path == "/metrics"):
            return True
        header = headers.get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        # compare_digest whatever the scheme, so a wrong scheme takes as long as a wrong token
        match = hmac.compare_digest(given.strip(), token.encode())
        return match and scheme.lower() == b"bearer"

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        if not self._authorized(scope["path"], headers):
            body = error_body(401, "missing or wrong bearer token")
            await _send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        if scope["method"] == "POST" and not _is_json(headers):
            body = error_body(415, "send the body as JSON (Content-Type: application/json)")
            await _send_json(send, 415, body)
            return
        limit = self.config.max_body_bytes
        too_large = error_body(413, f"request body over {limit} bytes")
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _send_json(send, 413, too_large)
            return
        chunks, size = [], 0
        while True:  # read the whole (bounded) body, then hand it on
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_json(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        content = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": content, "more_body": False}
            return await receive()

        predict = _PREDICT.match(scope["path"]) if scope["method"] == "POST" else None
        if predict is None:
            await self.app(scope, replay, send)
            return
        response = await self.predict(predict.group(1), content)
        await response(scope, replay, send)


def invalid_response(errors: Sequence[Any]) -> JSONResponse:
    """The answer to a body FastAPI's way of reading it rejects (its ``RequestValidationError``
    errors): 400 for malformed JSON, else 422 with each error's ``loc``, ``msg`` and ``type``."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(error_body(400, "malformed JSON body"), status_code=400)
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse(error_body(422, "invalid request", details), status_code=422)


def http_response(exc: HTTPException) -> JSONResponse:
    """The answer to an :class:`HTTPException`: its status and detail as the JSON error."""
    body = error_body(exc.status_code, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def internal_response() -> JSONResponse:
    """The answer to an unexpected error: a 500 that says no more."""
    return JSONResponse(error_body(500, "internal error"), status_code=500)


def read_body(model: type[BaseModel], raw: bytes) -> BaseModel | JSONResponse:
    """``raw`` (a JSON body) as ``model``, read as FastAPI reads a body parameter (fastapi
    0.165 ``routing.get_request_handler`` and ``dependencies.utils.request_body_to_args``): an
    empty body is a missing ``body``, bytes ``json.loads`` cannot decode as text are a 400
    "There was an error parsing the body", malformed JSON is ``json_invalid`` and the model's
    validation errors (``from_attributes`` on, as FastAPI validates) are located under
    ``body``; or the error answer :func:`invalid_response` and :func:`http_response` give."""
    if not raw:
        return invalid_response([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        return invalid_response([{"type": "json_invalid", "loc": ("body", err.pos), "msg": ""}])
    except ValueError:  # not text in any encoding json.loads detects
        return http_response(HTTPException(400, "There was an error parsing the body"))
    try:
        return model.model_validate(data, from_attributes=True)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        return invalid_response([{**e, "loc": ("body", *e["loc"])} for e in errors])
