"""The HTTP API in-process: every route, results equal to calling the models directly,
micro-batching, every bad request's 4xx, auth, metrics and the web page."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rnnkit.errors import ConfigError
from rnnkit.models.lm.generate import GenerationConfig, generate_text
from rnnkit.serve import ServeConfig, ServedModel, create_app, load_models, parse_spec
from rnnkit.serve.guard import GuardMiddleware

TEXTS = ["good great film", "the awful bad", "", "love it . hate it"]
LIMITS = ServeConfig(
    max_texts=3, max_chars=50, max_length=20, max_body_bytes=2000, max_beam=3, max_wait_ms=1
)


@pytest.fixture(scope="module")
def client(served: dict[str, ServedModel]) -> Iterator[TestClient]:
    with TestClient(create_app(served, LIMITS)) as c:
        yield c


def predict(client: TestClient, name: str, **body: Any) -> Any:
    response = client.post(f"/v1/models/{name}/predict", json=body)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_health_ready_and_models(client: TestClient, run_dirs: dict[str, Path]) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "models": ["clf", "lm", "mt", "pos"]}
    models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
    assert {name: m["task"] for name, m in models.items()} == {
        "clf": "classify",
        "pos": "tag",
        "lm": "lm",
        "mt": "translate",
    }
    assert models["clf"]["labels"] == ["neg", "neu", "pos"]
    assert models["clf"]["metrics"] == {"dev": {"accuracy": 0.5}}
    assert models["clf"]["config"]["pooling"] == "attention"
    assert "NOUN" in models["pos"]["tags"] and models["lm"]["labels"] is None
    assert models["pos"]["metrics"]["dev"]["accuracy"] > 0
    for name, m in models.items():
        weights = (run_dirs[name] / "model.safetensors").read_bytes()
        assert m["sha256"] == hashlib.sha256(weights).hexdigest()
        assert m["format"] == "torch"


@pytest.mark.parametrize("fmt", ["int8", "onnx"])
def test_exported_runs_serve_like_any_other(
    fmt: str, run_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """A directory of ``rnnkit export`` loads through ``rnnkit.load`` like a trained one;
    ``/v1/models`` says its format and predictions are the exported model's own."""
    export = pytest.importorskip("rnnkit.export", reason="rnnkit export is not there yet")
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
    out = export.export_run(run_dirs["clf"], fmt, tmp_path / fmt)
    served = load_models([f"clf={out}"])
    with TestClient(create_app(served, LIMITS)) as c:
        [info] = c.get("/v1/models").json()["models"]
        assert info["format"] == fmt and info["task"] == "classify"
        got = predict(c, "clf", texts=TEXTS[:3], explain=True)
    direct = served["clf"].model.predict(TEXTS[:3])
    assert [r["label"] for r in got] == [d.label for d in direct]
    for r, d in zip(got, direct, strict=True):
        assert r["probabilities"] == pytest.approx(d.probabilities, abs=1e-6)


def test_classifier_results_equal_the_model(
    client: TestClient, served: dict[str, ServedModel]
) -> None:
    direct = served["clf"].model.predict(TEXTS[:3])
    plain = predict(client, "clf", texts=TEXTS[:3])
    explained = predict(client, "clf", texts=TEXTS[:3], explain=True)
    for want, got, full in zip(direct, plain, explained, strict=True):
        assert set(got) == {"label", "probabilities"}
        assert got["label"] == want.label == full["label"]
        assert got["probabilities"] == pytest.approx(want.probabilities, abs=1e-6)
        assert full["tokens"] == want.tokens
        assert full["attention"] == pytest.approx(want.attention, abs=1e-6)


def test_tagger_translator_and_lm_results_equal_the_models(
    client: TestClient, served: dict[str, ServedModel]
) -> None:
    tagged = served["pos"].model.predict(TEXTS[:3])
    assert predict(client, "pos", texts=TEXTS[:3]) == [
        {"tokens": list(s.tokens), "tags": list(s.tags)} for s in tagged
    ]
    mt = served["mt"].model
    for beam in (None, 1, 3):
        want = mt.translate(["The dog sleeps.", "A cat runs."], beam_size=beam)
        got = predict(client, "mt", texts=["The dog sleeps.", "A cat runs."], beam=beam)
        assert [r["translation"] for r in got] == [t.text for t in want]
        assert [r["score"] for r in got] == pytest.approx([t.score for t in want], abs=1e-5)
    lm = served["lm"].model
    options = {"length": 7, "temperature": 0.8, "top_k": 3, "top_p": 0.9, "seed": 5}
    want_text = generate_text(lm, "the cat", GenerationConfig(**options))  # type: ignore[arg-type]
    assert predict(client, "lm", prompt="the cat", **options) == [{"continuation": want_text}]
    both = predict(client, "lm", texts=["the cat", "the"], **options)
    assert both[0] == {"continuation": want_text} and len(both) == 2
    default = predict(client, "lm", prompt="", temperature=0)  # length: min(100, max_length)
    greedy = GenerationConfig(length=LIMITS.max_length, temperature=0)
    assert default[0]["continuation"] == generate_text(lm, "", greedy)


def test_translator_explains_with_its_attention_matrix(
    client: TestClient, served: dict[str, ServedModel]
) -> None:
    texts = ["The dog sleeps.", "A cat runs."]
    want = served["mt"].model.translate(texts)
    got = predict(client, "mt", texts=texts, explain=True)
    for w, g in zip(want, got, strict=True):
        assert g["translation"] == w.text and g["tokens"] == w.tokens
        assert g["source_tokens"] == w.source_tokens
        assert w.attention is not None
        assert torch.tensor(g["attention"]).allclose(w.attention, atol=1e-6)
        # a row per token, and one for <eos> unless the length limit cut the output
        assert len(g["attention"]) - len(w.tokens) in (0, 1)
        assert all(len(row) == len(w.source_tokens) for row in g["attention"])
        assert all(sum(row) == pytest.approx(1.0, abs=1e-4) for row in g["attention"])
    assert set(predict(client, "mt", texts=texts[:1])[0]) == {"translation", "score"}


def _stream(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream("POST", LM, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/x-ndjson"
        return [json.loads(line) for line in response.iter_lines() if line]


def test_lm_streams_each_piece_then_the_unstreamed_answer(client: TestClient) -> None:
    options = {"length": 7, "temperature": 0.8, "top_k": 3, "seed": 5}
    texts = ["the cat", "the"]
    *pieces, last = _stream(client, {"texts": texts, **options})
    plain = predict(client, "lm", texts=texts, **options)
    assert last == {"model": "lm", "results": plain}
    for i, result in enumerate(plain):
        mine = [p["piece"] for p in pieces if p["index"] == i]
        assert len(mine) == 7 and "".join(mine) == result["continuation"]
    assert [p["index"] for p in pieces] == [0] * 7 + [1] * 7  # in order, text by text
    *none, only = _stream(client, {"prompt": "the", "length": 0})
    assert none == [] and only["results"] == [{"continuation": ""}]


def test_a_stream_outliving_the_timeout_ends_with_an_error_line(
    served: dict[str, ServedModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rnnkit.serve.models import LMRunner

    def slow(self: LMRunner, model: Any, texts: list[str], options: Any) -> Iterator[Any]:
        yield 0, "first"
        time.sleep(1.0)
        yield 0, "late"

    monkeypatch.setattr(LMRunner, "stream", slow)
    with TestClient(create_app(served, ServeConfig(timeout_s=0.3))) as c:
        lines = _stream(c, {"prompt": "the"})
        assert c.get("/health").status_code == 200
    assert lines == [
        {"index": 0, "piece": "first"},
        {"error": "no answer within 0.3 s", "status": 503},
    ]


def _histogram(text: str, name: str, model: str) -> tuple[float, float, dict[str, float]]:
    """``(count, sum, {le: cumulative count})`` of a histogram in Prometheus text."""
    count = total = 0.0
    buckets: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(rf"{name}_(count|sum|bucket)\{{(.*)\}} (\S+)$", line)
        if m and f'model="{model}"' in m.group(2):
            value = float(m.group(3))
            if m.group(1) == "count":
                count = value
            elif m.group(1) == "sum":
                total = value
            else:
                le = re.search(r'le="([^"]+)"', m.group(2))
                assert le is not None
                buckets[le.group(1)] = value
    return count, total, buckets


def test_concurrent_requests_are_micro_batched_in_input_order(
    served: dict[str, ServedModel],
) -> None:
    app = create_app(served, ServeConfig(max_batch=8, max_wait_ms=200))
    texts = [f"{w} film number {i}" for i, w in enumerate(["good", "bad", "the", "love"] * 5)]
    want = served["clf"].model.predict(texts)

    async def main() -> list[Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as c:
            responses = await asyncio.gather(
                *(c.post("/v1/models/clf/predict", json={"texts": [t]}) for t in texts)
            )
            metrics = await c.get("/metrics")
        for batcher in app.state.batchers.values():
            await batcher.close()
        return [*responses, metrics]

    *responses, metrics = asyncio.run(main())
    for response, expected in zip(responses, want, strict=True):
        assert response.status_code == 200
        [result] = response.json()["results"]
        assert result["label"] == expected.label
        assert result["probabilities"] == pytest.approx(expected.probabilities, abs=1e-5)
    count, total, buckets = _histogram(metrics.text, "rnnkit_serve_batch_size", "clf")
    assert total == len(texts)
    assert count < len(texts) / 2  # batches of several requests, not one each
    assert buckets["8.0"] == count  # never more than max_batch texts
    requests, _, _ = _histogram(metrics.text, "rnnkit_serve_batch_requests", "clf")
    assert requests == count


P = "/v1/models/clf/predict"
JSON = {"content-type": "application/json"}
LM = "/v1/models/lm/predict"
MT = "/v1/models/mt/predict"
BAD_REQUESTS: list[tuple[str, str, str, dict[str, Any], int]] = [
    ("malformed JSON", "POST", P, {"content": b'{"texts": ["a"', "headers": JSON}, 400),
    ("not JSON at all", "POST", P, {"content": b"hello", "headers": JSON}, 400),
    ("not UTF-8", "POST", P, {"content": b'{"texts": ["\xff"]}', "headers": JSON}, 400),
    ("no Content-Type", "POST", P, {"content": b'{"texts": ["a"]}'}, 415),
    ("form Content-Type", "POST", P, {"data": {"texts": "a"}}, 415),
    ("JSON array body", "POST", P, {"json": ["a"]}, 422),
    ("empty object", "POST", P, {"json": {}}, 422),
    ("texts is a string", "POST", P, {"json": {"texts": "good"}}, 422),
    ("texts holds a number", "POST", P, {"json": {"texts": [1]}}, 422),
    ("texts holds null", "POST", P, {"json": {"texts": [None]}}, 422),
    ("no texts", "POST", P, {"json": {"texts": []}}, 422),
    ("too many texts", "POST", P, {"json": {"texts": ["a"] * 4}}, 422),
    ("text too long", "POST", P, {"json": {"texts": ["a" * 51]}}, 422),
    ("unknown field", "POST", P, {"json": {"texts": ["a"], "file": "/etc/passwd"}}, 422),
    ("explain is a string", "POST", P, {"json": {"texts": ["a"], "explain": "yes"}}, 422),
    ("option of another task", "POST", P, {"json": {"texts": ["a"], "beam": 2}}, 422),
    ("prompt to a classifier", "POST", P, {"json": {"prompt": "a"}}, 422),
    ("body over the limit", "POST", P, {"json": {"texts": ["a" * 45] * 50}}, 413),
    (
        "chunked body over the limit",
        "POST",
        P,
        {"content": iter([b" " * 1500] * 2), "headers": JSON},
        413,
    ),
    ("bad Content-Length", "POST", P, {"headers": {**JSON, "content-length": "x"}}, 413),
    ("texts and prompt", "POST", LM, {"json": {"texts": ["a"], "prompt": "a"}}, 422),
    ("length over the limit", "POST", LM, {"json": {"prompt": "a", "length": 21}}, 422),
    ("negative length", "POST", LM, {"json": {"prompt": "a", "length": -1}}, 422),
    ("length is a bool", "POST", LM, {"json": {"prompt": "a", "length": True}}, 422),
    ("length is a string", "POST", LM, {"json": {"prompt": "a", "length": "5"}}, 422),
    ("negative temperature", "POST", LM, {"json": {"prompt": "a", "temperature": -1}}, 422),
    (
        "NaN temperature",
        "POST",
        LM,
        {"content": b'{"prompt": "a", "temperature": NaN}', "headers": JSON},
        422,
    ),
    ("subnormal temperature", "POST", LM, {"json": {"prompt": "a", "temperature": 5e-324}}, 422),
    ("tiny temperature", "POST", LM, {"json": {"prompt": "a", "temperature": 1e-3}}, 422),
    ("top_k 0", "POST", LM, {"json": {"prompt": "a", "top_k": 0}}, 422),
    ("top_p 0", "POST", LM, {"json": {"prompt": "a", "top_p": 0}}, 422),
    ("seed too large", "POST", LM, {"json": {"prompt": "a", "seed": 2**70}}, 422),
    ("prompt too long", "POST", LM, {"json": {"prompt": "a" * 51}}, 422),
    ("condition for a plain LM", "POST", LM, {"json": {"prompt": "a", "condition": "x"}}, 422),
    (
        "condition for a plain LM, streamed",
        "POST",
        LM,
        {"json": {"prompt": "a", "condition": "x", "stream": True}},
        422,
    ),
    ("stream is a string", "POST", LM, {"json": {"prompt": "a", "stream": "yes"}}, 422),
    ("stream to a classifier", "POST", P, {"json": {"texts": ["a"], "stream": True}}, 422),
    (
        "explain to a tagger",
        "POST",
        "/v1/models/pos/predict",
        {"json": {"texts": ["a"], "explain": True}},
        422,
    ),
    ("beam 0", "POST", MT, {"json": {"texts": ["a"], "beam": 0}}, 422),
    ("beam over the limit", "POST", MT, {"json": {"texts": ["a"], "beam": 4}}, 422),
    ("unknown model", "POST", "/v1/models/nope/predict", {"json": {"texts": ["a"]}}, 404),
    ("path as model", "POST", "/v1/models/..%2F..%2Fetc/predict", {"json": {"texts": ["a"]}}, 404),
    ("GET on predict", "GET", P, {}, 405),
    ("unknown path", "GET", "/v1/nothing", {}, 404),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_a_4xx_with_a_json_error(
    client: TestClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str)
    assert client.get("/health").status_code == 200


def test_no_request_so_far_was_answered_with_a_5xx(client: TestClient) -> None:
    client.post(P, content=b"[", headers=JSON)
    text = client.get("/metrics").text
    statuses = re.findall(r'rnnkit_serve_requests_total\{.*status="(\d+)"\}', text)
    assert "400" in statuses and not [s for s in statuses if s.startswith("5")]


def _fastapi_only(app: FastAPI) -> FastAPI:
    """``app`` without its :class:`GuardMiddleware` (before it starts): every request, the predict
    ones too, answered by FastAPI's own route and exception handlers."""
    guard: object = GuardMiddleware
    app.user_middleware = [m for m in app.user_middleware if m.cls is not guard]
    return app


def _answer(response: httpx.Response) -> tuple[int, Any]:
    """Status and parsed body (a list of lines for JSON lines)."""
    if response.headers["content-type"] == "application/x-ndjson":
        return response.status_code, [json.loads(line) for line in response.text.splitlines()]
    return response.status_code, response.json()


# predict requests the guard does not stop itself (no 413, 415), and more bodies than the table
PREDICT_BODIES = [
    (name, path, kwargs)
    for name, method, path, kwargs, status in BAD_REQUESTS
    if method == "POST" and path.endswith("/predict") and status not in (413, 415)
] + [
    ("empty body", P, {"content": b"", "headers": JSON}),
    ("null body", P, {"content": b"null", "headers": JSON}),
    ("string body", P, {"content": b'"good"', "headers": JSON}),
    ("UTF-16 body", P, {"content": '{"texts": ["good"]}'.encode("utf-16"), "headers": JSON}),
    (
        "+json type",
        P,
        {"content": b'{"texts": ["a"]}', "headers": {"content-type": "application/x.a+json"}},
    ),
    ("bad body, unknown model", "/v1/models/nope/predict", {"json": {"texts": [1]}}),
    ("several errors", P, {"json": {"texts": ["a", 2, None], "explain": 1, "zz": 0}}),
    ("classifier", P, {"json": {"texts": TEXTS[:3], "explain": True}}),
    ("tagger", "/v1/models/pos/predict", {"json": {"texts": ["The dog runs ."]}}),
    ("translator", MT, {"json": {"texts": ["a b"], "beam": 2, "explain": True}}),
    ("lm", LM, {"json": {"prompt": "the", "length": 4, "seed": 3}}),
    ("lm streamed", LM, {"json": {"prompt": "the", "length": 4, "seed": 3, "stream": True}}),
]


def test_predict_answers_every_body_as_fastapi_would(served: dict[str, ServedModel]) -> None:
    """The guard answers ``POST …/predict`` without FastAPI's layers; every body still gets the
    status and JSON that FastAPI's own route gives it (errors and results alike)."""
    guarded, plain = create_app(served, LIMITS), _fastapi_only(create_app(served, LIMITS))
    with TestClient(guarded) as ours, TestClient(plain) as fastapi:
        for name, path, kwargs in PREDICT_BODIES:
            got, want = _answer(ours.post(path, **kwargs)), _answer(fastapi.post(path, **kwargs))
            assert got == want, name
            assert got[0] < 500, name
        assert ours.get(P).status_code == fastapi.get(P).status_code == 405


class BrokenClassifier:
    """A classifier whose predictions cannot be turned into JSON."""

    labels = None

    def predict(self, texts: list[str], batch_size: int) -> list[object]:
        return [object() for _ in texts]


def test_an_unexpected_error_is_a_json_500_and_the_server_lives(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_app({"broken": ServedModel("broken", "classify", BrokenClassifier())})
    with TestClient(app) as c:
        response = c.post("/v1/models/broken/predict", json={"texts": ["a"]})
        assert response.status_code == 500
        assert response.json() == {"error": "internal error", "status": 500}
        assert c.get("/health").status_code == 200
        assert 'endpoint="/v1/models/{name}/predict",status="500"' in c.get("/metrics").text
    assert "POST /v1/models/broken/predict failed" in caplog.text


def test_bearer_token(served: dict[str, ServedModel]) -> None:
    app = create_app(served, ServeConfig(token="s3cret"))
    with TestClient(app) as c:
        body = {"texts": ["good"]}
        assert c.post(P, json=body).status_code == 401
        for header in ("Bearer wrong", "Basic s3cret", "s3cret", "Bearer "):
            response = c.post(P, json=body, headers={"Authorization": header})
            assert response.status_code == 401 and response.json()["status"] == 401
            assert response.headers["www-authenticate"] == "Bearer"
        ok = c.post(P, json=body, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert c.post(P, content=b"[", headers={"Authorization": "x"}).status_code == 401
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/v1/models").status_code == 401
        for public in ("/health", "/ready", "/", "/app.js", "/openapi.json"):
            assert c.get(public).status_code == 200


def test_metrics_in_prometheus_format(client: TestClient) -> None:
    predict(client, "pos", texts=["The dog runs ."])
    client.get("/v1/models/nope")
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for name in (
        "rnnkit_serve_requests_total",
        "rnnkit_serve_errors_total",
        "rnnkit_serve_request_duration_seconds_bucket",
        "rnnkit_serve_batch_size_bucket",
        "rnnkit_serve_batch_requests_bucket",
        "rnnkit_serve_models 4.0",
    ):
        assert name in text
    assert 'endpoint="/v1/models/{name}/predict"' in text
    assert 'endpoint="other",status="404"' in text  # raw unknown paths never become labels
    assert "nope" not in text


def test_web_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<select id="model"' in page.text and 'src="/app.js"' in page.text
    script, style = client.get("/app.js"), client.get("/style.css")
    assert "textContent" in script.text and "innerHTML" not in script.text
    assert style.headers["content-type"].startswith("text/css")
    for asset in (page.text, script.text, style.text):
        assert "http://" not in asset and "https://" not in asset  # nothing from the internet
    schema = client.get("/openapi.json").json()
    predict_body = schema["paths"]["/v1/models/{name}/predict"]["post"]["requestBody"]
    assert predict_body["required"] is True
    answers = schema["paths"]["/v1/models/{name}/predict"]["post"]["responses"]["200"]
    assert set(answers["content"]) == {"application/json", "application/x-ndjson"}
    assert client.get("/docs").status_code == 200


def test_parse_spec_and_load_models(run_dirs: dict[str, Path]) -> None:
    assert parse_spec(str(run_dirs["clf"])) == ("clf", run_dirs["clf"])
    assert parse_spec(f"sentiment={run_dirs['clf']}") == ("sentiment", run_dirs["clf"])
    assert parse_spec("x=runs/a=b") == ("x", Path("runs/a=b"))
    with pytest.raises(ConfigError, match="NAME=RUN_DIR"):
        parse_spec("runs/a=b")  # a path (its head is no name), whose base name is no name
    with pytest.raises(ConfigError, match="model name"):
        parse_spec("bad name!=x")
    with pytest.raises(ConfigError, match="two models"):
        load_models([str(run_dirs["clf"]), f"clf={run_dirs['pos']}"])
    with pytest.raises(ConfigError, match="at least one"):
        load_models([])


def test_json_errors_carry_no_input_echo(client: TestClient) -> None:
    response = client.post(P, json={"texts": ["secret" * 10]})
    assert response.status_code == 422 and "secret" not in response.text
    assert json.loads(response.text)["details"][0]["loc"] == ["body", "texts", 0]
    assert math.isfinite(client.get("/health").elapsed.total_seconds())
