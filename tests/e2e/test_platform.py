"""The platform as a whole: health, documentation, request ids, metrics."""

from __future__ import annotations

import re

import requests


def test_health_check_is_204_when_every_service_is_ready(platform):
    assert requests.get(f"{platform.url}/health-check").status_code == 204
    ready = requests.get(f"{platform.url}/health/ready").json()
    assert ready["status"] == "ready"
    assert ready["services"] == {"user": "ok", "auth": "ok", "registry": "ok", "events": "ok"}
    assert ready["instances"] == {name: ["ok"] * len(platform.facts[f"{name}_urls"])
                                  for name in ready["services"]}
    assert "127.0.0.1" not in str(ready)  # where the instances listen stays inside


def test_every_service_reports_its_database_and_redis(platform):
    for name in ("user", "auth", "registry", "events"):
        ready = requests.get(f"{platform.facts[f'{name}_url']}/health/ready").json()
        assert ready["checks"] == {"database": "ok", "redis": "ok"}


def test_the_merged_openapi_document_describes_the_slice(platform):
    spec = requests.get(f"{platform.url}/swagger.json").json()
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    served = {
        "/v0/users": {"post"}, "/v0/auth/login": {"post"}, "/v0/auth/logout": {"post"},
        "/v0/auth/verify-email": {"post"}, "/v0/auth/resend-verification-email": {"post"},
        "/v0/auth/forgot-password": {"post"}, "/v0/auth/reset-password": {"post"},
        "/v0/auth/change-password": {"post"}, "/v0/auth/change-email": {"post"},
        "/v0/auth/confirm-email-change": {"post"}, "/v0/auth/report-email-change": {"post"},
        "/v0/auth/reauthenticate": {"post"}, "/v0/auth/sessions": {"get"},
        "/v0/auth/sessions/{session_id}": {"delete"},
        "/v0/auth/sessions/revoke-others": {"post"}, "/v0/users/profile": {"get"},
        "/v0/users/profile/id": {"get"}, "/v0/users/handle/{handle}/available": {"get"},
        "/v0/user/me": {"get", "patch", "delete"},
        "/v0/action-logs": {"get"}, "/v0/eventstream/actions": {"get"},
        "/v0/user/me/profile-image": {"post", "delete"},
        "/v0/user/me/banner-image": {"post", "delete"}, "/v0/search/users": {"get"},
        "/v0/auth/oauth/{provider}/authorize": {"get"}, "/v0/auth/oauth/{provider}/login": {
            "post"}, "/v0/auth/oauth/{provider}/link": {"post"},
        "/v0/auth/complete-signup": {"post"}, "/v0/auth/oauth/connections": {"get"},
        "/v0/auth/oauth/connections/unlink": {"post"}, "/v0/auth/oauth/providers": {"get"},
        "/v0/users/{user_id}/follow": {"post", "delete"},
        "/v0/users/{user_id}/{side}": {"get"},
        "/user/create": {"post"}, "/user/auth": {"post"}, "/user/logged": {"get"},
        "/user/profile/{username}": {"get"}, "/user/password-reset-token": {"post"},
        "/user/password-reset": {"post"},
    }
    for path, methods in served.items():
        assert methods <= set(paths.get(path, {})), path
    assert not any(path.startswith(("/internal", "/health", "/metrics")) for path in paths)
    provider = paths["/v0/auth/oauth/{provider}/login"]["parameters"][0]
    assert provider["schema"]["enum"] == ["google", "github"]
    summary = paths["/v0/users"]["post"]["summary"]
    assert summary == "Register a user with email, handle, display name and password."


def test_swagger_ui_is_served_without_any_outside_resource(platform):
    page = requests.get(f"{platform.url}/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    assert all(asset.startswith("/docs/assets/") for asset in assets)
    for asset in assets:
        assert requests.get(f"{platform.url}{asset}").status_code == 200
    assert "script-src" not in page.headers["Content-Security-Policy"]  # self only


def test_a_request_id_is_echoed_and_logged_by_the_service(platform):
    response = requests.get(f"{platform.url}/v0/users/profile", params={"handle": "nobody-x"},
                            headers={"X-Request-ID": "e2e-trace-0001"})
    assert response.headers["X-Request-ID"] == "e2e-trace-0001"
    # Whichever instance of user-service answered (`user.log`, `user-2.log`, ...).
    logs = [path.read_text() for path in (platform.var_dir / "log").glob("user*.log")]
    assert any('"request_id": "e2e-trace-0001"' in log for log in logs)


def test_services_count_their_requests_for_prometheus(platform):
    requests.get(f"{platform.url}/v0/users/profile", params={"handle": "nobody-y"})
    counted = re.compile(r'tessera_http_requests_total\{[^}]*endpoint="/v0/users/profile"'
                         r'[^}]*status="404"[^}]*\} [1-9]')
    assert any(counted.search(requests.get(f"{url}/metrics").text)  # whichever answered
               for url in platform.facts["user_urls"])
