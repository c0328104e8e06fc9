"""Prometheus metrics at `/metrics`: request counts and latencies per endpoint, correct under
several gunicorn workers (multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` is set)."""

from __future__ import annotations

import os
import time
from functools import cache, partial

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("tessera_http_requests_total", "HTTP requests answered",
                   ["service", "method", "endpoint", "status"])
LATENCY = Histogram("tessera_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["service", "endpoint"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))


def exposition() -> bytes:
    """The metrics of every worker of this process tree, in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def instrument(app: Flask, service: str) -> None:
    """Count and time every request (the app base sets `g.started` as it arrives)."""
    # `labels()` checks and converts its values and takes a lock on every call; the children
    # it returns live as long as the metric, so each is asked for once.
    counter = cache(partial(REQUESTS.labels, service))
    timer = cache(partial(LATENCY.labels, service))

    @app.after_request
    def _observe(response: Response) -> Response:
        rule = request.url_rule
        endpoint = rule.rule if rule else "<unmatched>"
        counter(request.method, endpoint, response.status_code).inc()
        started = g.get("started")
        if started is not None:
            timer(endpoint).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(exposition(), content_type=CONTENT_TYPE_LATEST)
