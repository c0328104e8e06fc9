import pytest

from gateway.config import GatewaySettings
from gateway.edge import Edge

BASE_ENV = {f"{name.upper()}_SERVICE_URL": f"http://127.0.0.1:{9000 + i}"
            for i, name in enumerate(("user", "auth", "registry", "events"))} | {
                "REDIS_URL": "redis://127.0.0.1:1/0", "INTERNAL_SECRET": "i" * 40}


def edge(**env: str) -> Edge:
    return Edge(GatewaySettings.from_env({**BASE_ENV, "PORT": "8080", **env}))


def test_without_trusted_proxies_the_socket_address_is_the_client():
    environ = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert edge().client_ip(environ) == "10.0.0.5"


def test_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client():
    environ = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.9"}
    assert edge(TRUSTED_PROXIES="10.0.0.0/8").client_ip(environ) == "1.2.3.4"


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored():
    environ = {"REMOTE_ADDR": "8.8.8.8", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
    assert edge(TRUSTED_PROXIES="10.0.0.0/8").client_ip(environ) == "8.8.8.8"


def test_garbage_in_forwarded_for_falls_back_to_the_socket():
    environ = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "not-an-ip"}
    assert edge(TRUSTED_PROXIES="10.0.0.0/8").client_ip(environ) == "10.0.0.5"


def test_a_well_formed_request_id_is_kept_and_anything_else_replaced():
    assert Edge.request_id({"HTTP_X_REQUEST_ID": "abc-123-def"}) == "abc-123-def"
    replaced = Edge.request_id({"HTTP_X_REQUEST_ID": "evil\r\nSet-Cookie: x"})
    assert "\n" not in replaced
    assert len(replaced) == 32


@pytest.mark.parametrize(("environ", "refused"), [
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "https://evil.example"}, True),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_SEC_FETCH_SITE": "cross-site"}, True),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "http://127.0.0.1:8080"}, False),
    # a page of the host it calls, at another name than PUBLIC_URL's (localhost)
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "http://localhost:8080",
      "HTTP_HOST": "localhost:8080"}, False),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "http://localhost:8080",
      "HTTP_HOST": "127.0.0.1:8080"}, True),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "null", "HTTP_HOST": ""}, True),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "http://[", "HTTP_HOST": "localhost"}, True),
    ({"HTTP_COOKIE": "session_id=x", "HTTP_ORIGIN": "https://localhost:8080",
      "HTTP_HOST": "localhost:8080"}, True),  # another scheme is another origin
    ({"HTTP_COOKIE": "session_id=x"}, False),                     # not a browser
    ({"HTTP_ORIGIN": "https://evil.example"}, False),             # no session to abuse
])
def test_unsafe_cross_site_requests_with_a_session_are_refused(environ, refused):
    assert edge().is_cross_site_with_session(environ, "POST") is refused
    assert edge().is_cross_site_with_session(environ, "GET") is False


def test_cors_answers_only_allowed_origins_with_credentials():
    allowed = dict(edge(CORS_ALLOWED_ORIGINS="https://app.example").response_headers(
        {"HTTP_ORIGIN": "https://app.example"}, "rid"))
    assert allowed["Access-Control-Allow-Origin"] == "https://app.example"
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    other = dict(edge().response_headers({"HTTP_ORIGIN": "https://evil.example"}, "rid"))
    assert "Access-Control-Allow-Origin" not in other


def test_strict_transport_security_only_over_https():
    assert "Strict-Transport-Security" not in dict(edge().response_headers({}, "r"))
    secure = edge(PUBLIC_URL="https://id.example")
    assert "Strict-Transport-Security" in dict(secure.response_headers({}, "r"))
