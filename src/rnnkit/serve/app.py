"""The ASGI application of ``rnnkit serve``: routes, errors, limits, auth and metrics.

Built on FastAPI (on Starlette): the request bodies are pydantic models, so every field is
type-checked and bounded before a handler runs, and the OpenAPI schema (``/openapi.json``) and its
docs page (``/docs``) come from the same declarations. The server that runs it is uvicorn (see
:mod:`rnnkit.cli.serve`).

Every error is a JSON body ``{"error": MESSAGE, "status": CODE}`` (plus ``"details"``, the
validation errors, for a 422): malformed JSON is a 400, a missing or wrong token a 401, an unknown
model or path a 404, a body over ``max_body_bytes`` a 413, a POST body not declared JSON a 415,
wrong types and values over the other limits a 422, a request that outlives ``timeout_s`` a 503.
The token, the content type and the body limit are checked by ASGI middleware before the body is
parsed; the model name in a URL is only a key of the loaded models.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from starlette.exceptions import HTTPException

from rnnkit import __version__
from rnnkit.errors import RnnkitError
from rnnkit.serve.batching import MicroBatcher
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.metrics import Metrics
from rnnkit.serve.models import LMRunner, ServedModel

__all__ = ["PAGE_FILES", "create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# the web page's files: fixed names, read from the package once (no request names a file)
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
_STATIC = {"/health", "/ready", "/v1/models", "/metrics", "/openapi.json", "/docs", *PAGE_FILES}
_PREDICT = re.compile(r"^/v1/models/([^/]+)/predict$")  # the name as FastAPI's {name} matches it
MIN_TEMPERATURE = 0.01
_log = logging.getLogger(__name__)


def _endpoint(path: str) -> str:
    """The metrics label of ``path``: the route, never the raw path (bounded label values)."""
    if path in _STATIC:
        return path
    return "/v1/models/{name}/predict" if _PREDICT.match(path) else "other"


def _is_json(headers: dict[bytes, bytes]) -> bool:
    """Whether a request's ``headers`` say its body is JSON (``application/json`` or
    ``…+json``)."""
    value = headers.get(b"content-type", b"")
    media = value.split(b";")[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


def _error_body(status: int, message: str, details: Any = None) -> dict[str, Any]:
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
    same model and the same errors as FastAPI (:func:`_read_body`); FastAPI still declares the
    route, for the OpenAPI schema and the 405 of other methods."""

    def __init__(
        self, app: ASGIApp, config: ServeConfig, metrics: Metrics, predict: Predictor
    ) -> None:
        self.app, self.config, self.metrics, self.predict = app, config, metrics, predict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        endpoint = _endpoint(scope["path"])
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
            body = _error_body(401, "missing or wrong bearer token")
            await _send_json(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        if scope["method"] == "POST" and not _is_json(headers):
            body = _error_body(415, "send the body as JSON (Content-Type: application/json)")
            await _send_json(send, 415, body)
            return
        limit = self.config.max_body_bytes
        too_large = _error_body(413, f"request body over {limit} bytes")
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


def _invalid_response(errors: Sequence[Any]) -> JSONResponse:
    """The answer to a body FastAPI's way of reading it rejects (its ``RequestValidationError``
    errors): 400 for malformed JSON, else 422 with each error's ``loc``, ``msg`` and ``type``."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(_error_body(400, "malformed JSON body"), status_code=400)
    details = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse(_error_body(422, "invalid request", details), status_code=422)


def _http_response(exc: HTTPException) -> JSONResponse:
    """The answer to an :class:`HTTPException`: its status and detail as the JSON error."""
    body = _error_body(exc.status_code, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _internal_response() -> JSONResponse:
    """The answer to an unexpected error: a 500 that says no more."""
    return JSONResponse(_error_body(500, "internal error"), status_code=500)


def _read_body(model: type[BaseModel], raw: bytes) -> BaseModel | JSONResponse:
    """``raw`` (a JSON body) as ``model``, read as FastAPI reads a body parameter (fastapi
    0.165 ``routing.get_request_handler`` and ``dependencies.utils.request_body_to_args``): an
    empty body is a missing ``body``, bytes ``json.loads`` cannot decode as text are a 400
    "There was an error parsing the body", malformed JSON is ``json_invalid`` and the model's
    validation errors (``from_attributes`` on, as FastAPI validates) are located under
    ``body``; or the error answer :func:`_invalid_response` and :func:`_http_response` give."""
    if not raw:
        return _invalid_response([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        return _invalid_response([{"type": "json_invalid", "loc": ("body", err.pos), "msg": ""}])
    except ValueError:  # not text in any encoding json.loads detects
        return _http_response(HTTPException(400, "There was an error parsing the body"))
    try:
        return model.model_validate(data, from_attributes=True)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        return _invalid_response([{**e, "loc": ("body", *e["loc"])} for e in errors])


def _request_model(config: ServeConfig) -> type[BaseModel]:
    """The body of ``POST /v1/models/{name}/predict``, bounded by ``config``."""
    Text = Annotated[str, StringConstraints(max_length=config.max_chars)]

    class PredictRequest(BaseModel):
        """Texts to run through a model, and the options of its task. Give ``texts`` or, for a
        language model, ``prompt`` (one text)."""

        model_config = ConfigDict(extra="forbid", strict=True)

        texts: list[Text] | None = Field(
            None, min_length=1, max_length=config.max_texts, description="The inputs."
        )
        prompt: Text | None = Field(None, description="Language models: one prompt.")
        explain: bool | None = Field(
            None,
            description="Classifiers: also the tokens and their attention weights; translators: "
            "also the source and target tokens and the attention matrix.",
        )
        beam: int | None = Field(None, ge=1, le=config.max_beam, description="Translators.")
        length: int | None = Field(
            None, ge=0, le=config.max_length, description="Language models: tokens to generate."
        )
        temperature: float | None = Field(None, ge=0, le=100, description="Language models.")
        top_k: int | None = Field(None, ge=1, description="Language models.")
        top_p: float | None = Field(None, gt=0, le=1, description="Language models.")
        seed: int | None = Field(None, ge=0, lt=2**63, description="Language models.")
        condition: str | None = Field(
            None, max_length=200, description="Label-conditioned language models: the label."
        )
        stream: bool | None = Field(
            None,
            description="Language models: answer in JSON lines (application/x-ndjson), one "
            '{"index", "piece"} per generated piece as it is drawn, then the whole answer.',
        )

        @field_validator("temperature")
        @classmethod
        def _temperature(cls, value: float | None) -> float | None:
            # tinier temperatures overflow the tempered scores to inf: 0 is greedy already
            if value is not None and 0 < value < MIN_TEMPERATURE:
                raise ValueError(f"temperature must be 0 (greedy) or >= {MIN_TEMPERATURE}")
            return value

    return PredictRequest


class PredictResponse(BaseModel):
    """One result per text, in input order."""

    model: str
    results: list[dict[str, Any]]


def create_app(models: dict[str, ServedModel], config: ServeConfig | None = None) -> FastAPI:
    """The ASGI app serving ``models`` (loaded, by name) under ``config``'s limits."""
    cfg = config or ServeConfig()
    metrics = Metrics()
    metrics.models.set(len(models))
    batchers = {
        name: MicroBatcher(served, cfg.max_batch, cfg.max_wait_ms, metrics.observer(name))
        for name, served in models.items()
    }
    state = {"draining": False}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state["draining"] = True
        for batcher in batchers.values():
            await batcher.close()

    app = FastAPI(
        title="rnnkit serve",
        version=__version__,
        description="Recurrent NLP models over HTTP. With --token, /v1/… and /metrics need "
        "`Authorization: Bearer TOKEN`.",
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.batchers = batchers
    _add_error_handlers(app)
    _add_page(app)
    _add_status_routes(app, models, metrics, state)
    predict = _add_predict_route(app, models, batchers, cfg)
    app.add_middleware(GuardMiddleware, config=cfg, metrics=metrics, predict=predict)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "status"}`` JSON: malformed JSON 400, invalid fields 422."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid_response(exc.errors())

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return _http_response(exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return _internal_response()


def _add_page(app: FastAPI) -> None:
    """The web page's files (shipped in the package) at their routes."""
    static = resources.files("rnnkit.serve") / "static"
    page = {route: (static / name).read_bytes() for route, (name, _) in PAGE_FILES.items()}

    def _page(route: str) -> Callable[[], Awaitable[Response]]:
        async def serve_file() -> Response:
            return Response(page[route], media_type=PAGE_FILES[route][1], headers=PAGE_HEADERS)

        return serve_file

    for route in PAGE_FILES:
        app.add_api_route(route, _page(route), methods=["GET"], include_in_schema=False)


def _add_status_routes(
    app: FastAPI, models: dict[str, ServedModel], metrics: Metrics, state: dict[str, bool]
) -> None:
    """``/health``, ``/ready``, ``/v1/models`` and ``/metrics``."""

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        """Models are loaded and the server takes requests (503 while it shuts down)."""
        if state["draining"]:
            return JSONResponse(_error_body(503, "shutting down"), status_code=503)
        return JSONResponse({"status": "ready", "models": sorted(models)})

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        """Every model served: name, task, labels or tags, config summary, weights' sha256 and
        the scores of its metrics.json."""
        return {"models": [models[name].info for name in sorted(models)]}

    @app.get("/metrics")
    async def prometheus() -> Response:
        """Prometheus metrics: requests, errors, latency, batch sizes."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


def _add_predict_route(
    app: FastAPI,
    models: dict[str, ServedModel],
    batchers: dict[str, MicroBatcher],
    cfg: ServeConfig,
) -> Predictor:
    """``POST /v1/models/{name}/predict``, its body checked against ``cfg``'s limits: declared to
    FastAPI, and what :class:`GuardMiddleware` answers it with."""

    async def predict(name: str, body: Any) -> Response:
        """Run texts through model ``name``: classifier label and probabilities (tokens and
        attention with ``explain``), tagger tokens and tags, translator translation and score
        (``beam``; source and target tokens and the attention matrix with ``explain``), language
        model continuation (``length``, ``temperature``, ``top_k``, ``top_p``, ``seed``;
        streamed as JSON lines with ``stream``)."""
        served = models.get(name)
        if served is None:
            raise HTTPException(404, f"no model named {name!r}; GET /v1/models lists them")
        fields = body.model_dump(exclude_none=True)
        texts, prompt = fields.pop("texts", None), fields.pop("prompt", None)
        if (texts is None) == (prompt is None):
            raise HTTPException(422, 'give either "texts" or "prompt"')
        if prompt is not None and served.task != "lm":
            raise HTTPException(422, f'"prompt" is for language models; {name} is {served.task}')
        extra = sorted(set(fields) - served.options)
        if extra:
            raise HTTPException(422, f"{', '.join(extra)}: not an option of {served.task} models")
        if served.task == "lm":
            fields.setdefault("length", min(100, cfg.max_length))
        inputs = texts if texts is not None else [prompt]
        if fields.pop("stream", False):
            return await _stream(served, batchers[name], inputs, fields, cfg.timeout_s)
        try:
            async with asyncio.timeout(cfg.timeout_s):  # no task of its own, unlike wait_for
                raw = await batchers[name].submit(inputs, fields)
        except TimeoutError:
            raise HTTPException(503, f"no answer within {cfg.timeout_s} s") from None
        except RnnkitError as err:  # e.g. an unknown condition of a language model
            raise HTTPException(422, str(err)) from None
        runner = served.runner
        # answered as JSON here: a dict would be validated against PredictResponse again and
        # converted by jsonable_encoder, work per request that batching does not share
        return JSONResponse({"model": name, "results": [runner.format(r, fields) for r in raw]})

    # the body's class is made for this app's limits, so it is set here, not as an annotation
    request_model = _request_model(cfg)
    predict.__annotations__["body"] = request_model
    streamed = {"content": {"application/x-ndjson": {}}, "description": "With stream: JSON lines."}
    app.post(
        "/v1/models/{name}/predict", response_model=PredictResponse, responses={200: streamed}
    )(predict)

    async def answer(name: str, raw: bytes) -> Response:
        """``predict`` of the body ``raw``, every error answered as the exception handlers
        answer it in FastAPI."""
        body = _read_body(request_model, raw)
        if isinstance(body, Response):
            return body
        try:
            return await predict(name, body)
        except HTTPException as exc:
            return _http_response(exc)
        except Exception:
            _log.exception("POST /v1/models/%s/predict failed", name)
            return _internal_response()

    return answer


def _json_line(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode() + b"\n"


async def _stream(
    served: ServedModel,
    batcher: MicroBatcher,
    texts: list[str],
    options: dict[str, Any],
    timeout_s: float,
) -> Response:
    """A language model's continuations as JSON lines (``application/x-ndjson``): one
    ``{"index": I, "piece": P}`` per piece of text ``I``'s continuation as it is drawn, then
    ``{"model", "results"}``, the body a request without ``stream`` gets. An error before the
    first piece is an ordinary 4xx; one after it (the request outliving ``timeout_s``) is a last
    line ``{"error", "status"}``."""
    runner = served.runner
    assert isinstance(runner, LMRunner)
    pieces = batcher.stream(lambda: runner.stream(served.model, texts, options))
    deadline = asyncio.get_running_loop().time() + timeout_s

    async def next_piece() -> tuple[int, str] | None:
        left = deadline - asyncio.get_running_loop().time()
        return await asyncio.wait_for(anext(pieces, None), max(0.0, left))

    try:
        first = await next_piece()
    except TimeoutError:
        raise HTTPException(503, f"no answer within {timeout_s} s") from None
    except RnnkitError as err:  # e.g. an unknown condition
        raise HTTPException(422, str(err)) from None

    async def lines() -> AsyncIterator[bytes]:
        parts: list[list[str]] = [[] for _ in texts]
        item = first
        try:
            while item is not None:
                index, piece = item
                parts[index].append(piece)
                yield _json_line({"index": index, "piece": piece})
                item = await next_piece()
            results = [{"continuation": "".join(p)} for p in parts]
            yield _json_line({"model": served.name, "results": results})
        except TimeoutError:
            yield _json_line(_error_body(503, f"no answer within {timeout_s} s"))
        except Exception:  # the status line is sent already: say so in the last line
            yield _json_line(_error_body(500, "internal error"))
        finally:
            await pieces.aclose()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
