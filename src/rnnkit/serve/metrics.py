"""The Prometheus metrics of ``rnnkit serve`` (through prometheus-client): requests by endpoint
and status, errors, latency, and the texts and requests of each micro-batch.

Endpoint labels are routes, never raw paths, so their values are bounded. With ``--workers N``
the workers run prometheus-client's multiprocess mode (:data:`MULTIPROC_ENV` names a directory
they share, set before prometheus-client is imported in them), and ``/metrics`` sums them all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["MULTIPROC_ENV", "Metrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's name
_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The Prometheus metrics of one app (in a registry of its own)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rnnkit_serve_requests",
            "HTTP requests answered.",
            ["method", "endpoint", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "rnnkit_serve_errors",
            "HTTP requests answered with a 4xx or 5xx status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rnnkit_serve_request_duration_seconds",
            "Time from request to response.",
            ["endpoint"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "rnnkit_serve_batch_size",
            "Texts run through a model in one batch.",
            ["model"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.batch_requests = Histogram(
            "rnnkit_serve_batch_requests",
            "Requests served by one batch.",
            ["model"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.models = Gauge(
            "rnnkit_serve_models",
            "Models loaded.",
            registry=self.registry,
            multiprocess_mode="max",  # with --workers: each worker loads every model
        )
        # the labelled children by label values: ``labels()`` checks and sorts its arguments
        # and takes a lock on every call, a cost paid per request
        self._children: dict[tuple[str, ...], tuple[Any, Any, Any]] = {}

    def observe_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """Count one answered request (and its error, for a status of 400 or more) and its
        latency."""
        key = (method, endpoint, str(status))
        children = self._children.get(key)
        if children is None:
            error = None
            if status >= 400:
                error = self.errors.labels(endpoint=endpoint, status=key[2])
            children = (
                self.requests.labels(method=method, endpoint=endpoint, status=key[2]),
                error,
                self.latency.labels(endpoint=endpoint),
            )
            self._children[key] = children
        requests, errors, latency = children
        requests.inc()
        if errors is not None:
            errors.inc()
        latency.observe(seconds)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format: this process's, or, in prometheus-client's
        multiprocess mode (``rnnkit serve --workers N``), those of every worker, summed."""
        if not os.environ.get(MULTIPROC_ENV):
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)

    def observer(self, model: str) -> Callable[[int, int], None]:
        """What :class:`MicroBatcher` calls after each batch of ``model``."""

        def observe(texts: int, requests: int) -> None:
            self.batch_size.labels(model=model).observe(texts)
            self.batch_requests.labels(model=model).observe(requests)

        return observe
