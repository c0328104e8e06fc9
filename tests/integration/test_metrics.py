"""Prometheus counts stay correct: apart per endpoint, method and status, and added up across
several gunicorn workers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from prometheus_client.parser import text_string_to_metric_families

from tessera_launcher.launch import ServiceSpec
from tessera_launcher.processes import free_port, spawn, wait_until_ready
from tessera_shared.config import Settings
from tessera_shared.migrations import upgrade


def workers_that_counted(metrics_dir):
    """The worker pids that wrote a request counter (one file per worker process)."""
    return {p.name for p in metrics_dir.glob("counter_*.db")}


def test_request_counts_add_up_across_workers(service_env, tmp_path):
    upgrade(Settings.from_env("user", service_env))
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    spec = ServiceSpec("user", "user_service:create_app()", "gthread", workers=3, threads=2)
    child = spawn("user", spec.argv(f"127.0.0.1:{port}"),
                  {**service_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(child, f"{base}/health/ready")

        def ask(_: int) -> None:
            requests.get(f"{base}/v0/users/handle/someone/available",
                         headers={"Connection": "close"})

        sent = 0
        with ThreadPoolExecutor(12) as pool:  # more at once than one worker's 2 threads take
            for _ in range(20):  # bounded: spreading is the kernel's choice, not ours
                list(pool.map(ask, range(30)))
                sent += 30
                if len(workers_that_counted(metrics_dir)) > 1:
                    break
        assert len(workers_that_counted(metrics_dir)) > 1, "one worker served everything"
        text = requests.get(f"{base}/metrics").text
        assert sample(text, "tessera_http_requests_total",
                      endpoint="/v0/users/handle/<handle>/available", method="GET",
                      service="user", status="200") == sent, text
    finally:
        child.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 if it is not there)."""
    return next((found.value for family in text_string_to_metric_families(text)
                 for found in family.samples
                 if found.name == name and found.labels == labels), 0.0)


def test_each_endpoint_method_and_status_counts_apart(apps):
    user_app, _ = apps
    client = user_app.test_client()
    endpoint = "/v0/users/handle/<handle>/available"

    def counts() -> tuple[float, float, float]:
        text = client.get("/metrics").text
        return (sample(text, "tessera_http_requests_total", endpoint=endpoint, method="GET",
                       service="user", status="200"),
                sample(text, "tessera_http_requests_total", endpoint=endpoint, method="GET",
                       service="user", status="400"),
                sample(text, "tessera_http_request_duration_seconds_count", endpoint=endpoint,
                       service="user"))

    before = counts()
    for _ in range(3):
        assert client.get("/v0/users/handle/someone/available").status_code == 200
    assert client.get(f"/v0/users/handle/{'x' * 200}/available").status_code == 400
    got, refused, timed = (now - then for now, then in zip(counts(), before, strict=True))
    assert (got, refused, timed) == (3, 1, 4)
