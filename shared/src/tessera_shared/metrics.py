"""Prometheus metrics at `/metrics`: request counts and latencies per endpoint, correct under
several gunicorn workers (multiprocess mode when `PROMETHEUS_MULTIPROC_DIR` is set)."""

from __future__ import annotations

import os
import time

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

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "<unmatched>"
        REQUESTS.labels(service, request.method, endpoint, response.status_code).inc()
        if "started" in g:
            LATENCY.labels(service, endpoint).observe(time.perf_counter() - g.started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(exposition(), content_type=CONTENT_TYPE_LATEST)
