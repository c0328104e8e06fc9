"""ASVS V3, session management: every sign-in makes a new session no one chose, a session
ended is refused at once by every service and family, and the cookie keeps to itself."""

from __future__ import annotations

import re
import secrets

import pytest
import requests

from tests.e2e.conftest import eventually, new_user, signed_in, visitor
from tests.e2e.test_users_api import basic, registered, ssid_of, userhash
from tests.e2e.test_v0_accounts import session_cookie

TOKEN = re.compile(r"[A-Za-z0-9_-]{43,}")  # 256 random bits, base64url


def v0_login(platform, client: requests.Session, user: dict[str, str]) -> requests.Response:
    answer = client.post(f"{platform.url}/v0/auth/login", timeout=10, json={
        "email": user["email"], "password": user["password"]})
    assert answer.status_code == 204, answer.text
    return answer


def user_api_token(platform, user: dict[str, str]) -> str:
    """A user-API sign-in's session: the `TOKEN` cookie it sets."""
    client = visitor()
    answer = client.post(f"{platform.url}/user/auth", timeout=10, json={
        "username": user["username"], "password": user["password"]})
    assert answer.status_code == 200, answer.text
    return client.cookies["TOKEN"]


@pytest.mark.asvs("V3.2.1", "V3.2.2")
def test_v3_2_1_every_sign_in_gets_a_new_long_random_session_in_every_family(platform):
    user = registered(platform)
    v0 = [visitor() for _ in range(2)]
    tokens = []
    for client in v0:
        v0_login(platform, client, user)
        tokens.append(client.cookies["session_id"])
    tokens += [ssid_of(platform, user) for _ in range(2)]
    tokens += [user_api_token(platform, user) for _ in range(2)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(token) >= 43 for token in tokens), tokens  # at least 256 bits of text
    assert TOKEN.fullmatch(tokens[0])
    assert v0[0].cookies["anonymous_user_id"] not in tokens


@pytest.mark.asvs("V3.2.1")
def test_v3_2_1_a_session_id_planted_before_sign_in_is_never_adopted(platform):
    user = new_user()
    assert visitor().post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    planted = secrets.token_urlsafe(32)  # the attacker's, planted in the victim's browser
    victim = visitor()
    assert victim.get(f"{platform.url}/v0/user/me", cookies={"session_id": planted},
                      timeout=10).status_code == 401
    answer = victim.post(f"{platform.url}/v0/auth/login", cookies={"session_id": planted},
                         json={"email": user["email"], "password": user["password"]},
                         timeout=10)
    assert answer.status_code == 204, answer.text
    assert planted not in session_cookie(answer)  # a session of the server's own making
    assert victim.get(f"{platform.url}/v0/user/me", timeout=10).status_code == 200
    attacker = visitor()
    assert attacker.get(f"{platform.url}/v0/user/me", cookies={"session_id": planted},
                        timeout=10).status_code == 401


@pytest.mark.asvs("V3.3.1")
def test_v3_3_1_a_v0_sign_out_is_refused_at_once_by_every_service(platform):
    _, client, user_id = signed_in(platform)
    kept = {"session_id": client.cookies["session_id"]}

    def own_sign_ins() -> list[dict]:  # events-service shows them to the signed-in user only
        entries = requests.get(f"{platform.url}/v0/action-logs", cookies=kept, timeout=10,
                               params={"user_id": user_id, "limit": 50}).json()["data"]
        return [entry for entry in entries if entry["action"] == "auth:login"]

    eventually(own_sign_ins)
    assert client.post(f"{platform.url}/v0/auth/logout", timeout=10).status_code == 204
    for path in ("/v0/user/me", "/v0/auth/sessions", "/v0/auth/totp/status"):
        answer = requests.get(f"{platform.url}{path}", cookies=kept, timeout=10)
        assert answer.status_code == 401, path
    assert own_sign_ins() == []


@pytest.mark.asvs("V3.3.1")
def test_v3_3_1_sessions_of_the_other_families_end_when_revoked_from_v0(platform):
    user = registered(platform)
    ssid = ssid_of(platform, user)
    token = user_api_token(platform, user)
    owner = visitor()
    v0_login(platform, owner, user)
    info = f"{platform.url}/api/users/info"
    headers = basic(userhash(user["username"]), ssid)
    assert visitor().get(info, headers=headers, timeout=10).status_code == 200
    assert visitor().get(f"{platform.url}/user/logged", headers={"TOKEN": token},
                         timeout=10).status_code == 200
    revoked = owner.post(f"{platform.url}/v0/auth/sessions/revoke-others", timeout=10)
    assert revoked.status_code == 204, revoked.text
    assert visitor().get(info, headers=headers, timeout=10).status_code == 401
    logged = visitor().get(f"{platform.url}/user/logged", timeout=10,
                           headers={"TOKEN": token})
    assert logged.status_code == 404  # the document's "TOKEN was not found"


@pytest.mark.asvs("V3.3.1")
def test_v3_3_1_a_user_api_logout_ends_its_token_at_once(platform):
    user = registered(platform)
    headers = {"TOKEN": user_api_token(platform, user)}
    assert requests.get(f"{platform.url}/user/logged", headers=headers,
                        timeout=10).status_code == 200
    assert requests.post(f"{platform.url}/user/logout", headers=headers,
                         timeout=10).status_code == 200
    assert requests.get(f"{platform.url}/user/logged", headers=headers,
                        timeout=10).status_code == 404


@pytest.mark.asvs("V3.4.2", "V3.4.3")
def test_v3_4_2_the_session_cookie_is_httponly_lax_and_for_the_whole_site(platform):
    user = new_user()
    assert visitor().post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    cookie = session_cookie(v0_login(platform, visitor(), user))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Domain" not in cookie  # host-only: never sent to a sibling subdomain
