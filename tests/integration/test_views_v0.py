"""The v0 family's refusals, view by view, in process (`app.test_client()`): what a client of
the original gets for each kind of bad input. The flows that cross services are in
tests/e2e."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from tessera_shared.ids import digest
from tessera_shared.sessions import Client
from tests.mailbox import LINK
from user_service.models import Profile
from user_service.models import db as user_db

MB_STRING = "a" * 1_000_000


def new_user(**overrides: str) -> dict[str, str]:
    handle = overrides.pop("handle", f"u{uuid.uuid4().hex[:10]}")
    return {"email": f"{handle}@example.com", "handle": handle, "display_name": "Test User",
            "password": "correct horse battery staple", **overrides}


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["code"]


@pytest.mark.parametrize(("body", "content_type", "code"), [
    (b"{not json", "application/json", "general:bad_request"),
    (b"", "application/json", "general:bad_request"),
    (b"[]", "application/json", "general:bad_request"),
    (b'"just a string"', "application/json", "general:bad_request"),
    (b"null", "application/json", "general:bad_request"),
    (json.dumps(new_user()).encode(), "text/plain", "general:bad_request"),
    (json.dumps({**new_user(), "handle": 7}).encode(), "application/json", "general:bad_request"),
    (json.dumps({**new_user(), "password": None}).encode(), "application/json",
     "general:bad_request"),
    (json.dumps({"email": "x@example.com"}).encode(), "application/json", "general:bad_request"),
    (json.dumps({**new_user(), "email": "not-an-email"}).encode(), "application/json",
     "general:validation_error"),
    (json.dumps({**new_user(), "handle": MB_STRING}).encode(), "application/json",
     "general:validation_error"),
    (json.dumps({**new_user(), "handle": "nul\u0000byte"}).encode(), "application/json",
     "general:validation_error"),
    (b'{"email":"a@example.com","handle":"\\ud800ab","display_name":"abc","password":'
     b'"correct horse battery"}', "application/json", "general:validation_error"),
    (json.dumps({**new_user(), "password": "short"}).encode(), "application/json",
     "general:validation_error"),
    (json.dumps({**new_user(), "password": "p" * 201}).encode(), "application/json",
     "general:validation_error"),
])
def test_bad_sign_up_bodies_get_a_clear_400_and_leave_nothing_behind(services, body,
                                                                    content_type, code):
    before = services.stored()
    response = services.client("auth").post("/v0/users", data=body, content_type=content_type)
    assert response.status_code == 400, response.text
    assert response.get_json()["code"] == code
    assert response.get_json()["status"] == 400
    assert services.stored() == before


@pytest.mark.parametrize("body", [
    b"{oops", b"[]", json.dumps({"email": "x@example.com"}).encode(),
    json.dumps({"email": "x@example.com", "password": MB_STRING}).encode(),
    json.dumps({"email": "x@example.com", "password": "p", "remember_me": "yes please"}).encode(),
])
def test_bad_login_bodies_get_a_clear_400(services, body):
    response = services.client("auth").post("/v0/auth/login", data=body,
                                            content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] in {"general:bad_request", "general:validation_error"}


@pytest.mark.parametrize("path", ["verify-email", "confirm-email-change"])
def test_bad_tokens_get_the_familys_clear_errors(services, path):
    client = services.client("auth")
    assert client.post(f"/v0/auth/{path}", json={}).get_json()["code"] == "general:bad_request"
    assert client.post(f"/v0/auth/{path}", json={"token": ""}).get_json()["code"] == (
        "general:validation_error")
    assert client.post(f"/v0/auth/{path}", json={"token": "t" * 5000}).status_code == 400


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/v0/users/profile", {"handle": "nobody-at-all"}, 404, "user:not_found"),
    ("/v0/users/profile", {"handle": "ab"}, 400, "general:validation_error"),
    ("/v0/users/profile", {}, 400, "general:bad_request"),
    ("/v0/users/profile/id", {"user_id": "not-a-uuid"}, 400, "general:bad_request"),
    ("/v0/users/profile/id", {"user_id": "00000000-0000-7000-8000-000000000000"}, 404,
     "user:not_found"),
    ("/v0/users/handle/ab/available", {}, 400, "general:validation_error"),
])
def test_profile_lookups_refuse_bad_questions_clearly(services, path, params, status, code):
    response = services.client("user").get(path, query_string=params)
    assert error_of(response) == (status, code)


@pytest.mark.parametrize(("body", "code"), [
    ({"display_name": ""}, "general:validation_error"),
    ({"display_name": "   "}, "general:validation_error"),
    ({"display_name": "x" * 51}, "general:validation_error"),
    ({"bio": "b" * 501}, "general:validation_error"),
    ({"bio": 5}, "general:bad_request"),
])
def test_profile_edits_keep_to_the_rules(services, body, code):
    user = new_user()
    created = services.client("auth").post("/v0/users", json=user)
    assert created.status_code == 201, created.text
    with services.apps["user"].app_context():
        user_id = user_db.session.scalar(sa.select(Profile.id).where(
            Profile.handle == user["handle"]))
    token, _ = services.apps["user"].extensions["tessera"].sessions.create(
        user_id, Client("10.0.0.1", "test"), remember_me=False)
    client = services.client("user")
    client.set_cookie("session_id", token)
    answer = client.patch("/v0/user/me", json=body)
    assert error_of(answer) == (400, code)


@pytest.mark.parametrize(("params", "code"), [
    ({"page_size": 5}, "general:bad_request"),                       # page is required
    ({"page": 1}, "general:bad_request"),                            # so is page_size
    ({"page": "one", "page_size": 5}, "general:bad_request"),
    ({"page": 0, "page_size": 5}, "general:validation_error"),
    ({"page": 1, "page_size": 21}, "general:validation_error"),
    ({"query": "", "page": 1, "page_size": 5}, "general:validation_error"),
    ({"query": "q" * 101, "page": 1, "page_size": 5}, "general:validation_error"),
])
def test_bad_search_parameters_get_the_originals_errors(services, params, code):
    answer = services.client("user").get("/v0/search/users", query_string=params)
    assert error_of(answer) == (400, code)


@pytest.mark.parametrize(("params", "code"), [
    ({}, "general:bad_request"),
    ({"limit": 0}, "general:validation_error"),
    ({"limit": 101}, "general:validation_error"),
    ({"limit": 5, "cursor_direction": "older"}, "general:bad_request"),
    ({"limit": 5, "resource_type": "Thing"}, "general:bad_request"),
    ({"limit": 5, "user_id": "not-a-uuid"}, "general:bad_request"),
])
def test_bad_listing_parameters_get_the_originals_errors(services, params, code):
    answer = services.client("events").get("/v0/action-logs", query_string=params)
    assert error_of(answer) == (400, code)


def test_an_expired_reset_link_looks_like_an_unknown_one(services):
    user = new_user()
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    assert browser.post("/v0/auth/forgot-password",
                        json={"email": user["email"]}).status_code == 204
    reset = next(mail for mail in services.mail_to(user["email"]) if "Reset" in mail.subject)
    token = LINK.search(reset.body).group(2)
    redis = services.apps["auth"].extensions["tessera"].redis
    key = f"password_reset:{digest(token)}"
    assert 0 < redis.ttl(key) <= 15 * 60
    redis.delete(key)  # what its 15 minutes running out does
    expired = browser.post("/v0/auth/reset-password",
                           json={"token": token, "new_password": "new pass 1!"})
    unknown = browser.post("/v0/auth/reset-password",
                           json={"token": "x" * 43, "new_password": "new pass 1!"})
    assert expired.status_code == unknown.status_code == 400
    assert expired.get_json() == unknown.get_json()


@pytest.mark.parametrize(("path", "body"), [
    ("/v0/auth/reset-password", {"token": "x" * 43}),
    ("/v0/auth/change-password", {"current_password": "correct horse battery staple"}),
])
@pytest.mark.parametrize(("password", "reason"), [("short", "must be 8 to 200 characters"),
                                                  ("password123", "too common")])
def test_a_weak_new_password_is_refused_by_the_name_of_its_field(services, path, body,
                                                                 password, reason):
    user = new_user()
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    assert browser.post("/v0/auth/login", json={"email": user["email"],
                                                "password": user["password"]}).status_code == 204
    answer = browser.post(path, json={**body, "new_password": password})
    assert error_of(answer) == (400, "general:validation_error")
    details = answer.get_json()["details"]
    assert details.startswith("new_password: ")
    assert reason in details


@pytest.mark.parametrize("path", ["/v0/auth/oauth/google/authorize",
                                  "/v0/auth/oauth/github/authorize?flow=link"])
def test_a_provider_without_a_client_id_is_not_served(services, path):
    answer = services.client("auth").get(path)
    assert answer.status_code == 404
    assert answer.get_json()["code"] == "system:not_found"
    assert "OAUTH_" in answer.get_json()["details"]


def test_a_platform_without_providers_still_lists_no_connections(services):
    browser = services.browser()
    assert browser.post("/v0/users", json=(user := new_user())).status_code == 201
    assert browser.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    assert browser.get("/v0/auth/oauth/connections").get_json() == {"connections": []}


def test_a_platform_without_providers_lists_none(services):
    assert services.client("auth").get("/v0/auth/oauth/providers").get_json() == {
        "providers": []}
