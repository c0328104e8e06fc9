"""The v0 contract in one place: each endpoint's status and body exactly as the AxumKit
original answers them (../shared/reference/compat-notes.md, seed 002). A client written for
the original reads these answers unchanged."""

from __future__ import annotations

import re

import pytest
import requests

from tests.e2e.conftest import new_user, unique, visitor
from tests.images import encoded
from tests.mailbox import link_in

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def error(response, status: int, code: str) -> None:
    """The original's error envelope: `status` and `code`, `details` optional."""
    assert response.status_code == status
    body = response.json()
    assert set(body) <= {"status", "code", "details"}
    assert (body["status"], body["code"]) == (status, code)


def empty(response, status: int = 204) -> None:
    assert response.status_code == status
    assert response.content == b""


@pytest.fixture
def account(platform, mailbox):
    user = new_user()
    created = requests.post(f"{platform.url}/v0/users", json=user)
    assert (created.status_code, created.json()) == (201, {
        "message": "User created successfully. Please check your email to verify your account."})
    client = visitor()
    empty(client.post(f"{platform.url}/v0/auth/login",
                      json={"email": user["email"], "password": user["password"]}))
    return user, client


def test_profiles(platform, account):
    user, client = account
    me = client.get(f"{platform.url}/v0/user/me")
    assert me.status_code == 200
    body = me.json()
    assert set(body) == {"id", "handle", "display_name", "is_verified", "created_at", "email",
                         "followers_count", "following_count"}  # the counts: Tessera's
    assert UUID.match(body["id"])
    assert RFC3339.match(body["created_at"])
    public = requests.get(f"{platform.url}/v0/users/profile", params={"handle": user["handle"]})
    assert public.json() == {k: v for k, v in body.items() if k != "email"}
    by_id = requests.get(f"{platform.url}/v0/users/profile/id", params={"user_id": body["id"]})
    assert by_id.json() == public.json()
    available = requests.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")
    assert (available.status_code, available.json()) == (200, {"available": False})
    patched = client.patch(f"{platform.url}/v0/user/me", json={"bio": "Hello"})
    assert (patched.status_code, patched.json()["bio"]) == (200, "Hello")
    error(requests.get(f"{platform.url}/v0/users/profile", params={"handle": unique()}),
          404, "user:not_found")
    error(requests.get(f"{platform.url}/v0/user/me"), 401, "user:unauthorized")


def test_sign_up_and_login_errors(platform, account):
    user, _ = account
    error(requests.post(f"{platform.url}/v0/users", json=user), 409, "user:email_already_exists")
    error(requests.post(f"{platform.url}/v0/users", json=new_user(handle=user["handle"],
                                                                  email=f"{unique()}@x.org")),
          409, "user:handle_already_exists")
    error(requests.post(f"{platform.url}/v0/users", data="{"), 400, "general:bad_request")
    error(requests.post(f"{platform.url}/v0/users", json={**new_user(), "handle": "ab"}),
          400, "general:validation_error")
    error(visitor().post(f"{platform.url}/v0/auth/login",
                         json={"email": user["email"], "password": "wrong password"}),
          401, "auth:invalid_credentials")
    error(requests.get(f"{platform.url}/v0/nowhere"), 404, "system:not_found")


def test_mailbox_flows(platform, mailbox, account):
    user, client = account
    _, token = link_in(mailbox.wait_for(user["email"], "Verify your email"))
    empty(requests.post(f"{platform.url}/v0/auth/verify-email", json={"token": token}))
    error(requests.post(f"{platform.url}/v0/auth/verify-email", json={"token": token}),
          400, "token:invalid_verification")
    error(client.post(f"{platform.url}/v0/auth/resend-verification-email"),
          400, "email:already_verified")
    empty(requests.post(f"{platform.url}/v0/auth/forgot-password",
                        json={"email": f"{unique()}@example.com"}))
    error(requests.post(f"{platform.url}/v0/auth/reset-password",
                        json={"token": "nope", "new_password": "long enough pass"}),
          400, "token:invalid_reset")
    error(client.post(f"{platform.url}/v0/auth/change-password",
                      json={"current_password": "wrong one", "new_password": "long enough"}),
          401, "user:invalid_password")
    empty(client.post(f"{platform.url}/v0/auth/change-password", json={
        "current_password": user["password"], "new_password": "a different passphrase"}))
    error(requests.post(f"{platform.url}/v0/auth/confirm-email-change", json={"token": "x"}),
          400, "token:invalid_email_change")
    empty(client.post(f"{platform.url}/v0/auth/logout"))


def test_images_and_search(platform, account):
    _, client = account
    uploaded = client.post(f"{platform.url}/v0/user/me/profile-image",
                           files={"file": ("a.png", encoded("PNG"))})
    assert uploaded.status_code == 201
    assert set(uploaded.json()) == {"image_url"}
    empty(client.delete(f"{platform.url}/v0/user/me/profile-image"))
    error(client.delete(f"{platform.url}/v0/user/me/banner-image"), 404, "system:not_found")
    found = requests.get(f"{platform.url}/v0/search/users", params={"page": 1, "page_size": 1})
    assert found.status_code == 200
    assert set(found.json()) == {"users", "page", "page_size", "total_hits", "total_pages"}
    error(requests.get(f"{platform.url}/v0/search/users", params={"page": 1}),
          400, "general:bad_request")


def test_health_check_is_an_empty_204(platform):
    empty(requests.get(f"{platform.url}/health-check"))
