"""Deleting an account: every service erases what it owns; the handle is free again; the
action log keeps its entries under the user's id."""

from __future__ import annotations

import requests

from tests.e2e.conftest import eventually, new_user, signed_in, visitor


def test_a_deleted_account_is_gone_everywhere_and_its_handle_is_free(platform):
    user, client, user_id = signed_in(platform)

    wrong = client.delete(f"{platform.url}/v0/user/me", json={"password": "not mine"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "user:invalid_password")
    deleted = client.delete(f"{platform.url}/v0/user/me", json={"password": user["password"]})
    assert deleted.status_code == 204

    assert client.get(f"{platform.url}/v0/user/me").status_code == 401
    login = visitor().post(f"{platform.url}/v0/auth/login",
                           json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 401
    available = f"{platform.url}/v0/users/handle/{user['handle']}/available"
    eventually(lambda: requests.get(available).json()["available"])
    profile = requests.get(f"{platform.url}/v0/users/profile/id", params={"user_id": user_id})
    assert profile.status_code == 404

    def logged() -> list[str]:
        page = requests.get(f"{platform.url}/v0/action-logs",
                            params={"limit": 100, "user_id": user_id}).json()
        return [entry["action"] for entry in page["data"]]

    eventually(lambda: {"user:create", "user:delete"} <= set(logged()))
    again = requests.post(f"{platform.url}/v0/users", json=new_user(handle=user["handle"]))
    assert again.status_code == 201  # the email and the handle can be used again


def test_deleting_needs_a_session_and_the_password(platform):
    assert requests.delete(f"{platform.url}/v0/user/me",
                           json={"password": "x"}).status_code == 401
    _user, client, _user_id = signed_in(platform)
    missing = client.delete(f"{platform.url}/v0/user/me", json={})
    assert (missing.status_code, missing.json()["code"]) == (400, "general:bad_request")
