"""ASVS V4, access control: one user never reads or changes another's data through any
family, a cross-site form cannot act with someone's cookie, and no client-sent header makes
a request someone else's or the gateway's."""

from __future__ import annotations

import time

import pytest
import requests

from tessera_shared import internal
from tests.e2e.conftest import eventually, new_user, signed_in, unique, visitor
from tests.e2e.test_users_api import basic, registered, ssid_of, userhash
from tests.tensamin import Iota


@pytest.mark.asvs("V4.2.1")
def test_v4_2_1_a_v0_user_cannot_end_or_see_another_s_sessions_or_private_entries(platform):
    _, alice, alice_id = signed_in(platform)
    _, bob, bob_id = signed_in(platform)
    bobs = bob.get(f"{platform.url}/v0/auth/sessions", timeout=10).json()["sessions"]
    ended = alice.delete(f"{platform.url}/v0/auth/sessions/{bobs[0]['id']}", timeout=10)
    assert ended.status_code == 404, ended.text
    assert bob.get(f"{platform.url}/v0/user/me", timeout=10).status_code == 200
    assert bobs[0]["id"] not in [s["id"] for s in alice.get(
        f"{platform.url}/v0/auth/sessions", timeout=10).json()["sessions"]]

    def entries(client, user_id) -> set[str]:
        page = client.get(f"{platform.url}/v0/action-logs", timeout=10,
                          params={"user_id": user_id, "limit": 50}).json()["data"]
        return {entry["action"] for entry in page}

    eventually(lambda: "auth:login" in entries(bob, bob_id))  # Bob sees his sign-ins...
    assert "auth:login" not in entries(alice, bob_id)         # ...and Alice does not
    assert "auth:login" in entries(alice, alice_id)


@pytest.mark.asvs("V4.2.1")
def test_v4_2_1_a_users_api_session_is_its_own_user_s_only(platform):
    alice, bob = registered(platform), registered(platform)
    alices = ssid_of(platform, alice)
    info = f"{platform.url}/api/users/info"
    assert requests.get(info, headers=basic(userhash(alice["username"]), alices),
                        timeout=10).status_code == 200
    posing = requests.get(info, headers=basic(userhash(bob["username"]), alices), timeout=10)
    assert posing.status_code == 401
    assert posing.json()["data"]["message"] == "PLEASE_LOGIN"


@pytest.mark.asvs("V4.2.1")
def test_v4_2_1_one_registry_user_s_secrets_never_open_another_s_record(platform):
    iota = Iota(platform.url, visitor())
    alice, bob = iota.create_user(unique()), iota.create_user(unique())
    changed = iota.call("POST", f"/api/change/{bob.user_id}",
                        {"private_key_hash": alice.private_key_hash, "display": "Mallory"})
    assert changed["log"]["message"] == "Failed to change user: Permission Denied"
    alice.new_keys()
    keys = iota.call("POST", f"/api/change/keys/{bob.user_id}", {
        "private_key_hash": alice.private_key_hash, "public_key": alice.public_key,
        "reset_token": alice.reset_token, "new_token": alice.reset_token})
    assert keys["log"]["message"] == "Failed to change keys: Permission Denied"
    deleted = iota.call("POST", f"/api/delete/{bob.user_id}",
                        {"reset_token": alice.reset_token})
    assert deleted["log"]["message"] == "User deletion failed: Operation failed: Bad Token"
    assert iota.profile(bob.user_id)["data"]["display"] != "Mallory"


@pytest.mark.asvs("V4.2.1", "V4.1.2")
def test_v4_2_1_a_v0_body_or_query_naming_another_user_changes_only_the_signed_in_one(
        platform):
    _, alice, alice_id = signed_in(platform)
    bob_user, bob, bob_id = signed_in(platform)
    answer = alice.patch(f"{platform.url}/v0/user/me", timeout=10,
                         json={"display_name": "Mallory"}, params={"user_id": bob_id},
                         headers={"X-User-Id": bob_id, "X-Tessera-User": bob_id})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == alice_id
    assert bob.get(f"{platform.url}/v0/user/me", timeout=10).json()["display_name"] == (
        bob_user["display_name"])
    with_id = alice.patch(f"{platform.url}/v0/user/me", timeout=10,
                          json={"id": bob_id, "display_name": "Mallory"})
    assert (with_id.status_code, with_id.json()["id"]) == (200, alice_id)  # ignored
    assert bob.get(f"{platform.url}/v0/user/me", timeout=10).json()["display_name"] == (
        bob_user["display_name"])


@pytest.mark.asvs("V4.2.2", "V13.2.3")
def test_v4_2_2_a_cross_site_form_post_carrying_a_session_is_refused(platform):
    _, client, _ = signed_in(platform)
    response = client.post(f"{platform.url}/v0/auth/logout", timeout=10,
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["code"] == "system:cross_site_request"
    assert client.get(f"{platform.url}/v0/user/me", timeout=10).status_code == 200


@pytest.mark.asvs("V4.1.2")
def test_v4_1_2_client_sent_internal_headers_do_not_open_internal_doors(platform):
    response = requests.post(f"{platform.url}/v0/users", json=new_user(),
                             headers={"X-Tessera-Caller": "auth", "X-Tessera-Signature": "x"})
    assert response.status_code == 201  # ignored, not an error: the gateway strips them


@pytest.mark.asvs("V14.5.4")
def test_v14_5_4_a_service_reached_directly_counts_the_peer_not_a_forwarded_address(platform):
    """L12: a local user who goes around the gateway cannot pose as another address (and so
    neither spend someone else's throttle nor escape their own)."""
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    direct = requests.post(f"{platform.facts['auth_url']}/v0/auth/login", json={
        "email": user["email"], "password": user["password"]},
        headers={"X-Forwarded-For": "198.51.100.7", internal.VOUCHED: f"{int(time.time())}.x"})
    assert direct.status_code == 204
    sessions = requests.get(f"{platform.url}/v0/auth/sessions",
                            cookies=direct.cookies).json()["sessions"]
    assert [session["ip"] for session in sessions] == ["127.0.0.1"]

