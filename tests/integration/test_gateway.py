"""The gateway as it runs (gunicorn, gevent) in front of a real upstream process."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import simple_websocket
from werkzeug.datastructures import Headers

from tessera_launcher.processes import Child, free_port, spawn, wait_until_ready
from tessera_shared import internal

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"gateway-test-secret"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:tessera_shared.gunicorn_conf",
            "-k", "gevent", "-w", "1"]


def start_upstream(port: int, log_dir: Path, redis_url: str) -> Child:
    child = spawn("upstream", [*GUNICORN, "-b", f"127.0.0.1:{port}",
                               "tests.integration.upstream_app:create_app()"],
                  {**os.environ, "PYTHONPATH": str(ROOT), "REDIS_URL": redis_url}, log_dir)
    wait_until_ready(child, f"http://127.0.0.1:{port}/v0/auth/echo")
    return child


class Stack:
    def __init__(self, tmp: Path, redis_url: str) -> None:
        self.tmp = tmp
        self.upstream_port, self.port = free_port(), free_port()
        self.upstream = start_upstream(self.upstream_port, tmp, redis_url)
        up = f"http://127.0.0.1:{self.upstream_port}"
        # auth-service has a second instance, which never takes a connection.
        self.auth_instances = (up, f"http://127.0.0.1:{free_port()}")
        env = {**os.environ, "AUTH_SERVICE_URL": ",".join(self.auth_instances),
               "EVENTS_SERVICE_URL": up,
               "REGISTRY_SERVICE_URL": up, "USER_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
               "PORT": str(self.port), "GATEWAY_READ_TIMEOUT": "3", "REDIS_URL": redis_url,
               "CORS_ALLOWED_ORIGINS": "https://app.example", "INTERNAL_SECRET": SECRET.decode()}
        self.gateway = spawn("gateway", [*GUNICORN, "-b", f"127.0.0.1:{self.port}",
                                         "gateway:create_app()"], env, tmp)
        wait_until_ready(self.gateway, f"http://127.0.0.1:{self.port}/docs")
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.gateway.stop()
        self.upstream.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("gateway"), redis_url)
    yield running
    running.stop()


def test_requests_reach_the_owner_with_path_query_and_body(stack):
    answer = requests.post(f"{stack.url}/v0/auth/echo?a=1&b=%2F", data=b"hello",
                           headers={"Content-Type": "text/plain"}).json()
    assert answer["method"] == "POST"
    assert answer["path"] == "/v0/auth/echo"
    assert answer["query"] == "a=1&b=%2F"
    assert answer["body_length"] == 5


def test_client_sent_internal_and_forwarding_headers_never_reach_a_service(stack):
    sent = {"X-Tessera-Caller": "auth", "X-Tessera-Signature": "forged",
            "X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6", "Forwarded": "for=6.6.6.6",
            "Connection": "close, X-Drop-Me", "X-Drop-Me": "1", "X-Kept": "yes"}
    headers = requests.get(f"{stack.url}/v0/auth/echo", headers=sent).json()["headers"]
    assert [name for name in headers if name.lower().startswith("x-tessera-")] == [
        internal.VOUCHED]  # the gateway's own, over the address it forwards
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert internal.vouched_address(SECRET, Headers(headers)) == "127.0.0.1"
    assert "X-Real-Ip" not in headers
    assert "Forwarded" not in headers
    assert "X-Drop-Me" not in headers
    assert headers["X-Kept"] == "yes"


def test_the_request_id_travels_to_the_service_and_back(stack):
    response = requests.get(f"{stack.url}/v0/auth/echo", headers={"X-Request-ID": "trace-1234"})
    assert response.headers["X-Request-ID"] == "trace-1234"
    assert response.json()["headers"]["X-Request-Id"] == "trace-1234"
    generated = requests.get(f"{stack.url}/v0/auth/echo")
    assert generated.json()["headers"]["X-Request-Id"] == generated.headers["X-Request-ID"]


def test_answers_carry_security_headers(stack):
    headers = requests.get(f"{stack.url}/v0/auth/echo").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/internal/accounts/1", "/internal/profiles",
                                  "/v0/auth/../../internal/x"])
def test_internal_paths_are_never_routed(stack, path):
    response = requests.get(f"{stack.url}{path}")
    assert response.status_code == 404
    assert response.json()["code"] == "system:not_found"


def test_a_path_of_no_family_is_a_v0_not_found(stack):
    response = requests.get(f"{stack.url}/nope")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "system:not_found",
                               "details": "Path /nope with method GET not found."}


def test_bodies_over_the_route_cap_are_refused_before_the_service_sees_them(stack):
    response = requests.post(f"{stack.url}/v0/auth/echo", data=b"x" * ((1 << 20) + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "system:payload_too_large"
    chunked = requests.post(f"{stack.url}/v0/auth/echo",
                            data=iter([b"x" * (600 << 10), b"y" * (600 << 10)]))
    assert chunked.status_code == 413


def test_a_service_that_is_down_answers_503_in_the_family_envelope(stack):
    response = requests.get(f"{stack.url}/v0/user/me", timeout=5)
    assert response.status_code == 503
    assert response.json()["code"] == "system:service_unavailable"


def test_health_check_fails_while_any_service_is_down(stack):
    assert requests.get(f"{stack.url}/health-check").status_code == 503
    ready = requests.get(f"{stack.url}/health/ready").json()
    assert ready["services"]["user"] == "unreachable"
    assert ready["services"]["auth"] == "not ready (404)"  # the stand-in has no /health/ready


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_instance_that_refuses_is_passed_over_for_the_next_whatever_the_method(stack,
                                                                                 method):
    for _ in range(4):  # each instance's turn comes twice
        answer = requests.request(method, f"{stack.url}/v0/auth/echo", data=b"x", timeout=5)
        assert answer.status_code == 200
        assert answer.json()["method"] == method
    ready = requests.get(f"{stack.url}/health/ready").json()
    assert ready["instances"]["auth"] == ["not ready (404)", "unreachable"]  # live, dead


def test_a_service_that_is_too_slow_answers_504(stack):
    response = requests.get(f"{stack.url}/v0/auth/slow", timeout=10)
    assert response.status_code == 504
    assert response.json()["code"] == "system:gateway_timeout"


def test_large_answers_stream_through_intact(stack):
    response = requests.get(f"{stack.url}/v0/auth/big")
    assert len(response.content) == 3 << 20


def test_server_sent_events_pass_through_unbuffered(stack):
    with requests.get(f"{stack.url}/v0/auth/ticks", stream=True, timeout=10,
                      headers={"X-Request-ID": "stream-1234"}) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        assert stream.headers["Cache-Control"] == "no-cache"
        assert stream.headers["X-Request-ID"] == "stream-1234"
        assert stream.headers["X-Content-Type-Options"] == "nosniff"
        chunks = stream.iter_content(chunk_size=None)
        # The service holds the stream open after the first event: it must arrive anyway.
        assert b"data: first" in next(chunks)
        requests.post(f"{stack.url}/v0/auth/release")
        assert b"data: second" in b"".join(chunks)


def test_websockets_pass_through_both_ways(stack):
    ws = simple_websocket.Client.connect(f"ws://127.0.0.1:{stack.port}/ws/omikron")
    try:
        for text in ("ping", "ünïcode", "x" * 100_000):
            ws.send(text)
            assert ws.receive(timeout=10) == f"echo:{text}"
    finally:
        # The bridge may close first (stack-notes G8).
        with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
            ws.close()


def test_a_pooled_connection_the_service_dropped_is_replaced_transparently(stack, tmp_path,
                                                                          redis_url):
    assert requests.get(f"{stack.url}/v0/auth/echo").status_code == 200
    stack.upstream.stop()
    stack.upstream = start_upstream(stack.upstream_port, tmp_path, redis_url)
    assert requests.get(f"{stack.url}/v0/auth/echo").status_code == 200


def test_cors_preflight_is_answered_for_allowed_origins_only(stack):
    allowed = requests.options(f"{stack.url}/v0/auth/echo", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"]
    denied = requests.options(f"{stack.url}/v0/auth/echo", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in denied.headers


def test_a_cross_site_post_with_a_session_cookie_is_refused(stack):
    response = requests.post(f"{stack.url}/v0/auth/echo", cookies={"session_id": "x"},
                             headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["code"] == "system:cross_site_request"


def test_metrics_are_for_local_scrapers_only(stack):
    local = requests.get(f"{stack.url}/metrics")
    assert local.status_code == 200
    assert "tessera_gateway_requests_total" in local.text
    proxied = requests.get(f"{stack.url}/metrics", headers={"X-Forwarded-For": "1.2.3.4"})
    assert proxied.status_code == 404


def test_an_answer_the_service_breaks_off_never_reaches_the_client_as_whole(stack):
    """The service's chunked answer ends without its last chunk: the gateway must cut the
    client's connection too, not end the body cleanly."""
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{stack.url}/v0/auth/broken-off", timeout=10).raise_for_status()
    assert requests.get(f"{stack.url}/v0/auth/echo", timeout=10).status_code == 200


def test_a_malformed_request_line_does_not_break_the_gateway(stack):
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5) as raw:
        raw.sendall(b"GARBAGE\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.1 400")
    assert requests.get(f"{stack.url}/v0/auth/echo").status_code == 200


def test_the_gateway_stops_promptly_on_sigterm(tmp_path, redis_url):
    stack = Stack(tmp_path, redis_url)
    stack.gateway.process.terminate()
    assert stack.gateway.process.wait(15) == 0
    stack.upstream.stop()

