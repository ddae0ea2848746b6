"""The server's Prometheus metrics: one observed request updates its counter, its error counter
(4xx and 5xx only) and its latency histogram, under the labels given."""

from __future__ import annotations

from rnnkit.serve.metrics import Metrics


def _sample(metrics: Metrics, name: str, labels: dict[str, str]) -> float | None:
    value = metrics.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


def test_observe_request_counts_errors_only_for_4xx_and_5xx() -> None:
    metrics = Metrics()
    ok = {"method": "POST", "endpoint": "/v1/models/{name}/predict", "status": "200"}
    bad = {**ok, "status": "422"}
    for seconds in (0.001, 0.002):
        metrics.observe_request("POST", ok["endpoint"], 200, seconds)
    metrics.observe_request("POST", ok["endpoint"], 422, 0.5)
    assert _sample(metrics, "rnnkit_serve_requests_total", ok) == 2
    assert _sample(metrics, "rnnkit_serve_requests_total", bad) == 1
    errors = {"endpoint": ok["endpoint"]}
    assert _sample(metrics, "rnnkit_serve_errors_total", {**errors, "status": "422"}) == 1
    assert _sample(metrics, "rnnkit_serve_errors_total", {**errors, "status": "200"}) is None
    latency = "rnnkit_serve_request_duration_seconds"
    assert _sample(metrics, f"{latency}_count", errors) == 3
    assert abs((_sample(metrics, f"{latency}_sum", errors) or 0) - 0.503) < 1e-9
    assert _sample(metrics, f"{latency}_bucket", {**errors, "le": "0.005"}) == 2
