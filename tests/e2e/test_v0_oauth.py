"""Social sign-in through the gateway, the whole redirect flow over HTTP: the platform's
authlib clients against the Google-like and GitHub-like providers on loopback
(tests/oauth_provider.py), a browser-like client that carries the cookies, and the audit
trail the events carry."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.e2e.conftest import eventually, signed_in, visitor


def person(provider, **fields):
    key = f"p{uuid.uuid4().hex[:10]}"
    fields.setdefault("email", f"{key}@mail.example")
    fields.setdefault("name", "Social Person")
    fields.setdefault("login", key)
    return provider.person(key, **fields)


class Browser:
    """A client of the platform that goes to the provider and back as a browser would."""

    def __init__(self, platform, client: requests.Session | None = None) -> None:
        self.platform = platform
        self.http = client or visitor()

    def url(self, path: str) -> str:
        return f"{self.platform.url}{path}"

    def round_trip(self, provider, who, *, flow: str = "login") -> dict[str, str]:
        started = self.http.get(self.url(f"/v0/auth/oauth/{provider.face}/authorize"),
                                params={"flow": flow}, timeout=10)
        assert started.status_code == 200, started.text
        code, state = provider.consent(started.json()["auth_url"], who)
        return {"code": code, "state": state}

    def log_in(self, provider, who) -> requests.Response:
        return self.http.post(self.url(f"/v0/auth/oauth/{provider.face}/login"),
                              json=self.round_trip(provider, who), timeout=10)

    def sign_up(self, provider, who) -> str:
        pending = self.log_in(provider, who)
        assert pending.status_code == 200, pending.text
        handle = f"h{uuid.uuid4().hex[:10]}"
        done = self.http.post(self.url("/v0/auth/complete-signup"), timeout=10, json={
            "pending_token": pending.json()["pending_token"], "handle": handle})
        assert done.status_code == 204, done.text
        return handle

    def me(self) -> requests.Response:
        return self.http.get(self.url("/v0/user/me"), timeout=10)


def error_of(answer: requests.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["code"]


def security_log(browser: Browser, user_id: str) -> list[dict]:
    answer = browser.http.get(browser.url("/v0/action-logs"), timeout=10,
                              params={"user_id": user_id, "limit": 100})
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


@pytest.mark.parametrize("face", ["google", "github"])
def test_sign_up_and_sign_in_again_through_each_provider(platform, google, github, face):
    provider = {"google": google, "github": github}[face]
    who = person(provider)
    browser = Browser(platform)
    handle = browser.sign_up(provider, who)
    me = browser.me().json()
    assert me["handle"] == handle
    assert me["display_name"] == "Social Person"
    assert me["profile_image"]  # the provider's picture, through user-service's pipeline
    image = browser.http.get(me["profile_image"], timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/webp"
    connections = browser.http.get(browser.url("/v0/auth/oauth/connections"), timeout=10)
    assert [c["provider"] for c in connections.json()["connections"]] == [
        {"google": "Google", "github": "Github"}[face]]

    again = Browser(platform)
    signed = again.log_in(provider, who)
    assert signed.status_code == 204, signed.text
    assert "Max-Age=" in signed.headers["Set-Cookie"]
    assert again.me().json()["handle"] == handle

    entries = eventually_entries(browser, me["id"], {"user:create", "oauth:link", "auth:login"})
    linked = next(e for e in entries if e["action"] == "oauth:link")
    assert linked["metadata"]["provider"] == {"google": "Google", "github": "Github"}[face]
    logins = [e for e in entries if e["action"] == "auth:login"]
    assert {e["metadata"]["method"] for e in logins} == {face}
    # Security entries are their actor's alone.
    public = requests.get(browser.url("/v0/action-logs"), timeout=10,
                          params={"user_id": me["id"], "limit": 100}).json()["data"]
    assert {e["action"] for e in public} == {"user:create", "user:edit"}  # edit: the avatar


def eventually_entries(browser: Browser, user_id: str, wanted: set[str]) -> list[dict]:
    entries: list[dict] = []

    def arrived() -> bool:
        entries[:] = security_log(browser, user_id)
        return wanted <= {entry["action"] for entry in entries}

    eventually(arrived)
    return entries


def test_link_then_unlink_with_the_last_way_in_kept(platform, google, github):
    browser = Browser(platform)
    browser.sign_up(google, person(google))
    user_id = browser.me().json()["id"]
    linked = browser.http.post(browser.url("/v0/auth/oauth/github/link"), timeout=10,
                               json=browser.round_trip(github, (gh := person(github)),
                                                       flow="link"))
    assert linked.status_code == 204, linked.text
    listed = browser.http.get(browser.url("/v0/auth/oauth/connections"), timeout=10).json()
    assert [c["provider"] for c in listed["connections"]] == ["Google", "Github"]

    unlink = browser.url("/v0/auth/oauth/connections/unlink")
    assert browser.http.post(unlink, json={"provider": "Google"}, timeout=10).status_code == 204
    last = browser.http.post(unlink, json={"provider": "Github"}, timeout=10)
    assert error_of(last) == (400, "oauth:cannot_unlink_last_connection")
    assert Browser(platform).log_in(github, gh).status_code == 204  # still the way in
    entries = eventually_entries(browser, user_id, {"oauth:link", "oauth:unlink"})
    assert [e["metadata"]["provider"] for e in entries if e["action"] == "oauth:unlink"] == [
        "Google"]


def test_a_local_accounts_email_is_refused_and_an_unverified_one_too(platform, google):
    user, _, user_id = signed_in(platform)
    taken = Browser(platform).log_in(google, person(google, email=user["email"]))
    assert error_of(taken) == (409, "oauth:email_already_exists")
    unverified = Browser(platform).log_in(google, person(google, email_verified=False))
    assert error_of(unverified) == (400, "oauth:email_not_verified")
    time.sleep(0.5)  # anything the refusals had emitted would have reached the log by now
    assert not [e for e in security_log(Browser(platform, _signed_in_client(platform, user)),
                                        user_id) if e["action"].startswith("oauth:")]


def _signed_in_client(platform, user) -> requests.Session:
    client = visitor()
    assert client.post(f"{platform.url}/v0/auth/login", timeout=10, json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    return client


def test_a_provider_that_is_down_gets_a_clean_502_and_nothing_is_made(platform, github):
    who = person(github)
    browser = Browser(platform)
    answer = browser.round_trip(github, who)
    github.down = True
    try:
        failed = browser.http.post(browser.url("/v0/auth/oauth/github/login"), json=answer,
                                   timeout=20)
    finally:
        github.down = False
    assert error_of(failed) == (502, "oauth:provider_unavailable")
    assert set(failed.json()) >= {"status", "code"}
    assert browser.me().status_code == 401
    # Once it is back, the same person signs up from scratch: nothing was left half-made.
    handle = browser.sign_up(github, who)
    assert browser.me().json()["handle"] == handle
