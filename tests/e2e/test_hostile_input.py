"""Trying to break in: malformed and oversized bodies, odd text, forged internal calls."""

from __future__ import annotations

import http.client
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tessera_shared import internal
from tessera_shared.outbox import STREAM, read_stream
from tests.e2e.conftest import eventually, new_user, signed_in, unique, visitor

MB_STRING = "a" * 1_000_000


def post_raw(platform, path, body: bytes, content_type="application/json"):
    return requests.post(f"{platform.url}{path}", data=body,
                         headers={"Content-Type": content_type})


def test_a_refused_sign_up_writes_no_profile(platform):
    user = new_user(password="password1")  # too common
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 400
    available = requests.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")
    assert available.json() == {"available": True}


def test_bodies_over_a_mebibyte_are_refused_at_the_gateway(platform):
    huge = json.dumps({**new_user(), "bio": "b" * (2 << 20)}).encode()
    response = post_raw(platform, "/v0/users", huge)
    assert response.status_code == 413
    assert response.json()["code"] == "system:payload_too_large"


def test_unicode_names_are_welcome_and_handles_keep_to_one_alphabet(platform):
    user = new_user(handle=f"Zoe{secrets.token_hex(3)}", display_name="Zoë Ångström 🌿")
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    profile = requests.get(f"{platform.url}/v0/users/profile",
                           params={"handle": user["handle"].lower()}).json()
    assert profile["display_name"] == "Zoë Ångström 🌿"
    accented = requests.post(f"{platform.url}/v0/users",
                             json=new_user(handle=f"Zoë{secrets.token_hex(3)}"))
    assert accented.status_code == 400
    assert "the letters a-z and A-Z, the digits 0-9 and _" in accented.json()["details"]


def test_internal_endpoints_are_unreachable_through_the_gateway(platform):
    for path in ("/internal/accounts/x", "/internal/profiles"):
        assert requests.post(f"{platform.url}{path}", json={}).status_code == 404


def forged(path: str, body: bytes, secret: bytes, **overrides: str) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    headers = {internal.CALLER: "auth", internal.TIMESTAMP: timestamp, internal.NONCE: nonce,
               internal.SIGNATURE: internal.sign(secret, internal.Call("POST", path, body),
                                                 timestamp, nonce),
               "Content-Type": "application/json"}
    return {**headers, **overrides}


def test_a_service_refuses_internal_calls_with_a_wrong_or_missing_signature(platform):
    user_service = platform.facts["user_url"]
    body = json.dumps({"id": "00000000-0000-7000-8000-000000000001", "handle": unique(),
                       "display_name": "Mallory"}).encode()
    for headers in ({"Content-Type": "application/json"},
                    forged("/internal/profiles", body, b"guessed secret"),
                    {**forged("/internal/profiles", body, b"x"), "X-Tessera-Timestamp": "0"}):
        response = requests.post(f"{user_service}/internal/profiles", data=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "system:unauthorized_internal_call"


def test_a_replayed_internal_call_is_refused(platform):
    secret = json.loads((platform.var_dir / "secrets.json").read_text())["INTERNAL_SECRET"]
    user_service = platform.facts["user_url"]
    body = json.dumps({"id": "00000000-0000-7000-8000-000000000002", "handle": unique(),
                       "display_name": "Replay"}).encode()
    headers = forged("/internal/profiles", body, secret.encode())
    first = requests.post(f"{user_service}/internal/profiles", data=body, headers=headers)
    assert first.status_code == 201
    replay = requests.post(f"{user_service}/internal/profiles", data=body, headers=headers)
    assert replay.status_code == 401


def test_a_service_reached_directly_counts_the_peer_not_a_forwarded_address(platform):
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


def test_client_sent_internal_headers_do_not_open_internal_doors(platform):
    response = requests.post(f"{platform.url}/v0/users", json=new_user(),
                             headers={"X-Tessera-Caller": "auth", "X-Tessera-Signature": "x"})
    assert response.status_code == 201  # ignored, not an error: the gateway strips them


def test_a_cross_site_form_post_carrying_a_session_is_refused(platform):
    response = requests.post(f"{platform.url}/v0/auth/logout",
                             cookies={"session_id": "stolen-by-a-form"},
                             headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["code"] == "system:cross_site_request"


def test_password_guessing_is_throttled_and_then_even_the_right_password_looks_wrong(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    guesser = visitor()
    login = f"{platform.url}/v0/auth/login"
    wrong = [guesser.post(login, json={"email": user["email"], "password": f"guess {n}"})
             for n in range(5)]
    assert {answer.status_code for answer in wrong} == {401}
    right = {"email": user["email"], "password": user["password"]}
    throttled = guesser.post(login, json=right)
    assert throttled.status_code == 401
    assert throttled.json() == wrong[0].json()
    # The account is throttled from every address, not only the guesser's.
    assert visitor().post(login, json=right).status_code == 401


def test_a_guesser_cannot_lock_the_owner_out_of_a_browser_they_signed_in_from(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    login = f"{platform.url}/v0/auth/login"
    right = {"email": user["email"], "password": user["password"]}
    owner = visitor()
    owner.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")  # gets its id
    assert owner.post(login, json=right).status_code == 204
    guesser = visitor()
    for n in range(20):  # far past the account's free failures, and on while refused
        guesser.post(login, json={"email": user["email"], "password": f"guess {n}"})
    assert visitor().post(login, json=right).status_code == 401  # a new browser waits
    owner.headers["X-Forwarded-For"] = visitor().headers["X-Forwarded-For"]  # on the move
    assert owner.post(login, json=right).status_code == 204


def test_parallel_guesses_get_no_more_checks_than_sequential_ones(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    login = f"{platform.url}/v0/auth/login"
    guesser, tag = visitor(), f"burst-{unique()}"
    guesser.headers["User-Agent"] = tag
    redis = platform.redis()
    mark = redis.xrevrange(STREAM, count=1)[0][0].decode()

    def guess(n: int) -> int:
        return guesser.post(login, json={"email": user["email"], "password": f"guess {n}"},
                            timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(guess, range(16))) == {401}

    def failures() -> list[dict]:  # every failed login is an event, saying if it was checked
        return [event.data for event in read_stream(redis, after=mark, count=100_000)
                if event.type == "auth.login_failed" and event.data.get("user_agent") == tag]

    eventually(lambda: len(failures()) == 16)
    assert sum(not failure["throttled"] for failure in failures()) == 5


def test_throttling_an_unknown_email_looks_the_same_as_a_known_one(platform):
    guesser, login = visitor(), f"{platform.url}/v0/auth/login"
    email = f"{unique()}@example.com"
    answers = [guesser.post(login, json={"email": email, "password": "guess"})
               for _ in range(7)]
    assert {(a.status_code, a.json()["code"]) for a in answers} == {
        (401, "auth:invalid_credentials")}


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v0/auth/login"),
    ("POST", "/v0/users"),
    ("PATCH", "/v0/user/me"),
    ("POST", "/api/login"),
    ("POST", "/api/users/modifypassword"),
])
def test_json_nested_a_hundred_thousand_deep_is_malformed_not_a_crash(platform, method, path):
    _, client, _ = signed_in(platform)
    answer = client.request(method, f"{platform.url}{path}", data=DEEP, timeout=10,
                            headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()  # in the family's envelope


@pytest.mark.parametrize("path", ["/media//etc/passwd", "/api/users//info",
                                  "/api/get//uuid/someone", "/v0//users/handle/x/available"])
def test_redirects_never_show_a_service_s_internal_address(platform, path):
    host, port = platform.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)  # sent as it is: no client-side slash merging
    answer = connection.getresponse()
    answer.read()
    location = answer.getheader("Location")
    if location is not None:
        assert location.startswith("/"), location
    internal = [url for name, url in platform.facts.items() if name.endswith("_url")
                and name != "public_url" and url.startswith("http")]
    assert not any(url in (location or "") for url in internal)


def test_cached_page_assets_set_no_cookie(platform):
    asset = requests.get(f"{platform.url}/console/console.css", timeout=10)
    assert asset.status_code == 200
    assert "public" in asset.headers["Cache-Control"]
    assert "Set-Cookie" not in asset.headers
    api = requests.get(f"{platform.url}/v0/users/handle/someone/available", timeout=10)
    assert "anonymous_user_id=" in api.headers["Set-Cookie"]  # the API still marks visitors


def test_a_method_a_path_does_not_take_is_405_with_every_method_it_does(platform):
    """The gateway answers from the merged document: /v0/user/me is two services' (DELETE is
    auth's, GET and PATCH user's), and its Allow names them all."""
    traced = requests.request("TRACE", f"{platform.url}/v0/user/me", timeout=30)
    assert (traced.status_code, traced.json()["code"]) == (405, "system:method_not_allowed")
    assert traced.headers["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH"
    asked = requests.options(f"{platform.url}/v0/user/me", timeout=30)
    assert (asked.status_code, asked.headers["Allow"]) == (204, traced.headers["Allow"])
    # The users API keeps its original's answer to a wrong method.
    wrong = requests.get(f"{platform.url}/api/users/register", timeout=30)
    assert (wrong.status_code, wrong.json()["data"]["message"]) == (422, "INVALID_METHOD")
