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
parsed, and predict requests are answered there (:mod:`rnnkit.serve.guard`); the model name in a
URL is only a key of the loaded models.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
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
    field_validator,
)
from starlette.exceptions import HTTPException

from rnnkit import __version__
from rnnkit.errors import RnnkitError
from rnnkit.serve.batching import MicroBatcher
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.guard import (
    GuardMiddleware,
    Predictor,
    error_body,
    http_response,
    internal_response,
    invalid_response,
    read_body,
)
from rnnkit.serve.metrics import Metrics
from rnnkit.serve.models import LMRunner, ServedModel

__all__ = ["PAGE_FILES", "create_app"]


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
MIN_TEMPERATURE = 0.01
_log = logging.getLogger(__name__)


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
    app.add_middleware(
        GuardMiddleware, config=cfg, metrics=metrics, predict=predict, static=_STATIC
    )
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "status"}`` JSON: malformed JSON 400, invalid fields 422."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_response(exc.errors())

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return http_response(exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        return internal_response()


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
            return JSONResponse(error_body(503, "shutting down"), status_code=503)
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
        body = read_body(request_model, raw)
        if isinstance(body, Response):
            return body
        try:
            return await predict(name, body)
        except HTTPException as exc:
            return http_response(exc)
        except Exception:
            _log.exception("POST /v1/models/%s/predict failed", name)
            return internal_response()

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
            yield _json_line(error_body(503, f"no answer within {timeout_s} s"))
        except Exception:  # the status line is sent already: say so in the last line
            yield _json_line(error_body(500, "internal error"))
        finally:
            await pieces.aclose()

    return StreamingResponse(lines(), media_type="application/x-ndjson")
