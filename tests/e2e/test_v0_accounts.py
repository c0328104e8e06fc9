"""The v0 sign-up-to-profile slice, through the gateway, as the original API behaves."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tessera_shared.outbox import read_stream
from tests.e2e.conftest import new_user, unique, visitor

CREATED = {"message": "User created successfully. Please check your email to verify your account."}


def sign_up(platform, **overrides):
    user = new_user(**overrides)
    response = requests.post(f"{platform.url}/v0/users", json=user)
    assert response.status_code == 201, response.text
    return user


def log_in(platform, client, user, remember_me=False):
    return client.post(f"{platform.url}/v0/auth/login", json={
        "email": user["email"], "password": user["password"], "remember_me": remember_me})


def test_sign_up_answers_201_with_the_originals_message(platform):
    response = requests.post(f"{platform.url}/v0/users", json=new_user())
    assert response.status_code == 201
    assert response.json() == CREATED
    assert "session_id" not in response.cookies  # sign-up opens no session


def test_a_new_user_logs_in_and_reads_their_own_profile(platform, client):
    user = sign_up(platform, display_name="Ann Lee")
    login = log_in(platform, client, user)
    assert login.status_code == 204
    assert login.content == b""
    me = client.get(f"{platform.url}/v0/user/me")
    assert me.status_code == 200
    body = me.json()
    assert body["handle"] == user["handle"]
    assert body["display_name"] == "Ann Lee"
    assert body["email"] == user["email"]
    assert body["is_verified"] is False
    assert body["created_at"].endswith("Z")
    assert "bio" not in body  # optional fields are left out, not null


def session_cookie(response):
    """The `Set-Cookie` header of the session, among those the answer carries."""
    return next(header for header in response.raw.headers.getlist("Set-Cookie")
                if header.startswith("session_id="))


def test_the_session_cookie_is_httponly_lax_and_persistent_only_when_remembered(platform):
    user = sign_up(platform)
    plain = session_cookie(log_in(platform, visitor(), user))
    assert "HttpOnly" in plain
    assert "SameSite=Lax" in plain
    assert "Max-Age" not in plain
    assert "Secure" not in plain  # PUBLIC_URL is plain http here
    remembered = session_cookie(log_in(platform, visitor(), user, remember_me=True))
    assert "Max-Age=2592000" in remembered


def test_logout_ends_the_session_and_clears_the_cookie(platform, client):
    user = sign_up(platform)
    log_in(platform, client, user)
    token = client.cookies["session_id"]
    logout = client.post(f"{platform.url}/v0/auth/logout")
    assert logout.status_code == 204
    assert session_cookie(logout).startswith("session_id=;")
    again = requests.get(f"{platform.url}/v0/user/me", cookies={"session_id": token})
    assert again.status_code == 401
    assert again.json()["code"] == "user:unauthorized"


def test_logging_in_again_replaces_the_session_the_client_held(platform, client):
    user = sign_up(platform)
    log_in(platform, client, user)
    first = client.cookies["session_id"]
    log_in(platform, client, user)
    assert client.cookies["session_id"] != first
    stale = requests.get(f"{platform.url}/v0/user/me", cookies={"session_id": first})
    assert stale.status_code == 401


@pytest.mark.parametrize("cookie", [None, "", "garbage", "x" * 4000])
def test_my_profile_needs_a_live_session(platform, cookie):
    cookies = {} if cookie is None else {"session_id": cookie}
    response = requests.get(f"{platform.url}/v0/user/me", cookies=cookies)
    assert response.status_code == 401
    assert response.json() == {"status": 401, "code": "user:unauthorized",
                               "details": response.json()["details"]}


def test_email_taken_is_reported_before_handle_taken(platform):
    first = sign_up(platform)
    both_taken = requests.post(f"{platform.url}/v0/users", json={**first})
    assert both_taken.status_code == 409
    assert both_taken.json()["code"] == "user:email_already_exists"
    handle_taken = requests.post(f"{platform.url}/v0/users", json=new_user(
        handle=first["handle"], email=f"{unique()}@example.com"))
    assert handle_taken.status_code == 409
    assert handle_taken.json()["code"] == "user:handle_already_exists"


def test_handles_and_emails_are_unique_whatever_their_case(platform):
    first = sign_up(platform)
    upper_handle = new_user(handle=first["handle"].upper(), email=f"{unique()}@example.com")
    assert requests.post(f"{platform.url}/v0/users",
                         json=upper_handle).json()["code"] == "user:handle_already_exists"
    upper_email = new_user(email=first["email"].upper())
    assert requests.post(f"{platform.url}/v0/users",
                         json=upper_email).json()["code"] == "user:email_already_exists"


def test_two_sign_ups_racing_for_one_handle_have_one_winner(platform):
    handle = unique("race")
    users = [new_user(handle=handle, email=f"{unique()}@example.com") for _ in range(6)]
    with ThreadPoolExecutor(len(users)) as pool:
        answers = list(pool.map(lambda u: requests.post(f"{platform.url}/v0/users", json=u),
                                users))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    winners = [u for u, a in zip(users, answers, strict=True) if a.status_code == 201]
    for user, answer in zip(users, answers, strict=True):
        if answer.status_code == 409:
            assert answer.json()["code"] == "user:handle_already_exists"
            # the loser left no account behind
            assert log_in(platform, visitor(), user).status_code == 401
    assert log_in(platform, visitor(), winners[0]).status_code == 204


def test_two_sign_ups_racing_for_one_email_leave_the_losers_handle_free(platform):
    email = f"{unique()}@example.com"
    users = [new_user(email=email) for _ in range(6)]
    with ThreadPoolExecutor(len(users)) as pool:
        answers = list(pool.map(lambda u: requests.post(f"{platform.url}/v0/users", json=u),
                                users))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    for user, answer in zip(users, answers, strict=True):
        available = requests.get(
            f"{platform.url}/v0/users/handle/{user['handle']}/available").json()["available"]
        assert available is (answer.status_code == 409)


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(platform, client):
    user = sign_up(platform)
    wrong = log_in(platform, client, {**user, "password": "not the password"})
    unknown = log_in(platform, client, {**user, "email": f"{unique()}@example.com"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "auth:invalid_credentials"


def test_profiles_are_public_by_handle_in_any_case_and_by_id(platform, client):
    user = sign_up(platform)
    by_handle = requests.get(f"{platform.url}/v0/users/profile",
                             params={"handle": user["handle"].upper()})
    assert by_handle.status_code == 200
    profile = by_handle.json()
    assert set(profile) == {"id", "handle", "display_name", "is_verified", "created_at",
                            "followers_count", "following_count"}  # the counts: Tessera's
    by_id = requests.get(f"{platform.url}/v0/users/profile/id", params={"user_id": profile["id"]})
    assert by_id.json() == profile


def test_handle_availability_follows_sign_up(platform):
    handle = unique()
    url = f"{platform.url}/v0/users/handle/{handle}/available"
    assert requests.get(url).json() == {"available": True}
    sign_up(platform, handle=handle)
    assert requests.get(url).json() == {"available": False}


def test_sign_up_and_login_are_published_as_events(platform, client):
    redis = platform.redis()
    last = redis.xrevrange("tessera:events", count=1)
    mark = last[0][0].decode() if last else "-"
    user = sign_up(platform)
    log_in(platform, client, user)
    user_id = client.get(f"{platform.url}/v0/user/me").json()["id"]
    wanted = {"user.registered", "auth.logged_in"}
    seen: dict[str, dict] = {}
    for _ in range(100):
        for event in read_stream(redis, after=mark, count=100_000):
            if event.data.get("user_id") == user_id:
                seen[event.type] = event.data
        if wanted <= seen.keys():
            break
        time.sleep(0.05)
    assert wanted <= seen.keys()
    assert seen["user.registered"]["handle"] == user["handle"]
    assert seen["auth.logged_in"]["ip"] == client.headers["X-Forwarded-For"]
    assert user["password"] not in str(seen)


def test_unknown_paths_answer_in_their_familys_envelope(platform):
    v0 = requests.get(f"{platform.url}/v0/does-not-exist")
    assert v0.status_code == 404
    assert v0.json()["code"] == "system:not_found"
    registry = requests.get(f"{platform.url}/api/get/uuid/")
    assert registry.json()["type"] == "error"


def test_every_v0_answer_gives_a_new_visitor_an_anonymous_id_once(platform):
    first = requests.get(f"{platform.url}/v0/users/handle/someone/available")
    cookie = first.cookies.get("anonymous_user_id")
    assert cookie is not None
    assert uuid.UUID(cookie).version == 7
    header = first.headers["Set-Cookie"]
    assert "Max-Age=31536000" in header
    assert "HttpOnly" in header
    again = requests.get(f"{platform.url}/v0/users/handle/someone/available",
                         cookies={"anonymous_user_id": cookie})
    assert "anonymous_user_id" not in again.headers.get("Set-Cookie", "")
