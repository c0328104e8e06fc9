"""Beyond the slice: the caller's sessions, and editing one's own profile."""

from __future__ import annotations

import requests

from tests.e2e.conftest import new_user, visitor


def signed_in(platform, user=None, devices=1):
    user = user or new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    clients = []
    for n in range(devices):
        client = visitor()
        client.headers["User-Agent"] = f"device-{n}"
        assert client.post(f"{platform.url}/v0/auth/login", json={
            "email": user["email"], "password": user["password"]}).status_code == 204
        clients.append(client)
    return user, clients


def test_a_user_sees_each_of_their_sessions_and_which_is_this_one(platform):
    _, (laptop, phone) = signed_in(platform, devices=2)
    listed = laptop.get(f"{platform.url}/v0/auth/sessions").json()["sessions"]
    assert [s["user_agent"] for s in listed] == ["device-1", "device-0"]  # newest first
    assert [s["current"] for s in listed] == [False, True]
    assert listed[1]["ip"] == laptop.headers["X-Forwarded-For"]
    assert listed[0]["created_at"].endswith("Z")
    assert phone.get(f"{platform.url}/v0/user/me").status_code == 200


def test_ending_another_session_signs_that_device_out(platform):
    _, (laptop, phone) = signed_in(platform, devices=2)
    phone_id = next(s["id"] for s in laptop.get(f"{platform.url}/v0/auth/sessions").json()[
        "sessions"] if not s["current"])
    assert laptop.delete(f"{platform.url}/v0/auth/sessions/{phone_id}").status_code == 204
    assert phone.get(f"{platform.url}/v0/user/me").status_code == 401
    assert laptop.get(f"{platform.url}/v0/user/me").status_code == 200
    again = laptop.delete(f"{platform.url}/v0/auth/sessions/{phone_id}")
    assert again.status_code == 404
    assert again.json()["code"] == "session:not_found"


def test_nobody_can_end_someone_elses_session(platform):
    _, (mallory,) = signed_in(platform)
    _, (victim,) = signed_in(platform)
    victim_id = victim.get(f"{platform.url}/v0/auth/sessions").json()["sessions"][0]["id"]
    assert mallory.delete(f"{platform.url}/v0/auth/sessions/{victim_id}").status_code == 404
    assert victim.get(f"{platform.url}/v0/user/me").status_code == 200


def test_revoking_the_others_keeps_only_this_session(platform):
    _, clients = signed_in(platform, devices=3)
    keeper = clients[0]
    assert keeper.post(f"{platform.url}/v0/auth/sessions/revoke-others").status_code == 204
    assert [c.get(f"{platform.url}/v0/user/me").status_code for c in clients] == [200, 401, 401]
    assert len(keeper.get(f"{platform.url}/v0/auth/sessions").json()["sessions"]) == 1


def test_the_sessions_api_needs_a_session(platform):
    for method, path in (("GET", ""), ("POST", "/revoke-others"), ("DELETE", "/x")):
        answer = requests.request(method, f"{platform.url}/v0/auth/sessions{path}")
        assert answer.status_code == 401
        assert answer.json()["code"] == "user:unauthorized"


def test_a_user_edits_their_display_name_and_bio(platform):
    user, (client,) = signed_in(platform)
    edited = client.patch(f"{platform.url}/v0/user/me",
                          json={"display_name": "New Name", "bio": "Hi there"})
    assert edited.status_code == 200
    assert edited.json()["display_name"] == "New Name"
    assert edited.json()["bio"] == "Hi there"
    assert edited.json()["email"] == user["email"]
    unchanged = client.patch(f"{platform.url}/v0/user/me", json={"bio": None}).json()
    assert unchanged["bio"] == "Hi there"
    public = requests.get(f"{platform.url}/v0/users/profile",
                          params={"handle": user["handle"]}).json()
    assert public["display_name"] == "New Name"


def test_editing_needs_a_session(platform):
    answer = requests.patch(f"{platform.url}/v0/user/me", json={"bio": "x"})
    assert answer.status_code == 401
