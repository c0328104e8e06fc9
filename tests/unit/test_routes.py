import pytest

from gateway.routes import ROUTES, match


@pytest.mark.parametrize(("method", "path", "service"), [
    ("POST", "/v0/users", "auth"),                 # sign-up is auth's saga
    ("GET", "/v0/users/profile", "user"),
    ("GET", "/v0/users/handle/ann/available", "user"),
    ("GET", "/v0/user/me", "user"),
    ("PATCH", "/v0/user/me", "user"),
    ("DELETE", "/v0/user/me", "auth"),                 # deletion starts where the password is
    ("POST", "/v0/user/me/profile-image", "user"),
    ("GET", "/v0/search/users", "user"),
    ("POST", "/v0/auth/login", "auth"),
    ("GET", "/v0/auth/oauth/google/authorize", "auth"),
    ("GET", "/v0/action-logs", "events"),
    ("GET", "/v0/eventstream/actions", "events"),
    ("GET", "/api/get/uuid/ann", "registry"),
    ("POST", "/api/change/keys/0000", "registry"),
    ("GET", "/api/register/init/", "registry"),
    ("POST", "/api/delete/0000", "registry"),
    ("GET", "/ws/omikron", "registry"),
    ("POST", "/api/login/", "auth"),
    ("POST", "/api/users/register", "auth"),
    ("POST", "/user/create", "auth"),
    ("GET", "/user/profile/ann", "user"),
    ("GET", "/media/user-images/abc.webp", "user"),
])
def test_every_path_family_of_the_design_reaches_its_owner(method, path, service):
    route = match(method, path)
    assert route is not None
    assert route.service == service


@pytest.mark.parametrize("path", [
    "/internal/accounts/1", "/internal", "/metrics", "/v0", "/v0/usersX", "/apix/get/1",
])
def test_internal_and_unknown_paths_are_never_proxied(path):
    assert match("GET", path) is None


def test_only_the_omikron_socket_is_a_websocket_route():
    assert [route.pattern for route in ROUTES if route.websocket] == ["/ws/omikron/**"]


def test_image_uploads_may_be_larger_than_json_bodies():
    assert match("POST", "/v0/user/me/banner-image").max_body > 8 << 20
    assert match("POST", "/v0/auth/login").max_body == 1 << 20


def test_only_registry_routes_refuse_foreign_browser_origins():
    refusing = {route.pattern for route in ROUTES if route.refuses_foreign_origins}
    assert refusing == {"/api/get/**", "/api/change/**", "/api/register/**", "/api/delete/**",
                        "/ws/omikron/**"}
