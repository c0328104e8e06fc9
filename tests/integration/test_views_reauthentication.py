"""A stolen session: what it can no longer do once its sign-in is old, in process. The
session's last sign-in is moved back in its Redis record, as if the cookie had been taken
minutes ago (the time itself cannot be waited for)."""

from __future__ import annotations

import json
import time
import uuid

from tessera_shared.ids import digest
from tests.authenticator import Authenticator
from tests.mailbox import LINK


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["code"]


def signed_in(services, *, verified: bool = False):
    """A new v0 user (with the link in their verification mail opened, if `verified`) and a
    browser signed in as them."""
    handle = f"u{uuid.uuid4().hex[:10]}"
    user = {"email": f"{handle}@example.com", "handle": handle, "display_name": "Test User",
            "password": "correct horse battery staple"}
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    if verified:
        [mail] = services.mail_to(user["email"])
        token = LINK.search(mail.body).group(2)
        assert browser.post("/v0/auth/verify-email", json={"token": token}).status_code == 204
    logged_in = browser.post("/v0/auth/login",
                             json={"email": user["email"], "password": user["password"]})
    assert logged_in.status_code == 204, logged_in.text
    return user, browser


def with_totp(services):
    """A signed-in user who turned TOTP on: user, browser, their phone, their backup codes."""
    user, browser = signed_in(services, verified=True)
    setup = browser.post("/v0/auth/totp/setup")
    assert setup.status_code == 200, setup.text
    phone = Authenticator(setup.get_json()["qr_code_uri"])
    enabled = browser.post("/v0/auth/totp/enable", json={"code": phone.code()})
    assert enabled.status_code == 200, enabled.text
    return user, browser, phone, enabled.get_json()["backup_codes"]


def age_session(services, browser, minutes: float) -> None:
    """Move the session's last sign-in back, as if the cookie had been taken `minutes` ago."""
    redis = services.apps["auth"].extensions["tessera"].redis
    key = f"session:{digest(browser.cookies['session_id'])}"
    record = json.loads(redis.get(key))
    record["authenticated_at"] = int(time.time() - minutes * 60)
    redis.set(key, json.dumps(record), keepttl=True)


def reauthenticate(browser, **body):
    return browser.post("/v0/auth/reauthenticate", json=body)


def test_a_session_that_signed_in_long_ago_must_reauthenticate_before_turning_totp_on(
        services):
    user, browser = signed_in(services, verified=True)
    age_session(services, browser, 11)
    for path, body in (("setup", None), ("enable", {"code": "123456"}),
                       ("disable", {"code": "123456"}),
                       ("backup-codes/regenerate", {"code": "123456"})):
        refused = browser.post(f"/v0/auth/totp/{path}", json=body)
        assert error_of(refused) == (403, "auth:reauthentication_required"), path
    assert "reauthenticate" in refused.get_json()["details"]
    wrong = reauthenticate(browser, password="not the password at all")
    assert error_of(wrong) == (401, "user:invalid_password")
    assert reauthenticate(browser, password=user["password"]).status_code == 204
    assert browser.post("/v0/auth/totp/setup").status_code == 200


def test_with_totp_on_reauthentication_takes_the_password_and_a_code(services):
    user, browser, phone, _ = with_totp(services)
    age_session(services, browser, 11)
    no_code = reauthenticate(browser, password=user["password"])
    assert error_of(no_code) == (401, "totp:code_required")
    wrong_code = reauthenticate(browser, password=user["password"], code="000000")
    assert error_of(wrong_code) == (400, "totp:invalid_code")
    assert reauthenticate(browser, password=user["password"],
                          code=phone.code()).status_code == 204


def test_deleting_with_a_code_needs_a_recent_sign_in_too(services):
    user, browser, phone, backup_codes = with_totp(services)
    age_session(services, browser, 11)
    stale = browser.delete("/v0/user/me", json={"code": backup_codes[0]})
    assert error_of(stale) == (403, "auth:reauthentication_required")
    assert browser.get("/v0/user/me").status_code == 200  # nothing happened
    assert reauthenticate(browser, password=user["password"],
                          code=phone.code()).status_code == 204
    assert browser.delete("/v0/user/me", json={"code": backup_codes[0]}).status_code == 204


def test_with_totp_on_a_stolen_session_and_password_cannot_change_password_or_address(
        services):
    user, browser, phone, _ = with_totp(services)
    age_session(services, browser, 11)
    password = browser.post("/v0/auth/change-password", json={
        "current_password": user["password"], "new_password": "the thief's own now"})
    assert error_of(password) == (403, "auth:reauthentication_required")
    address = browser.post("/v0/auth/change-email", json={
        "password": user["password"], "new_email": "thief@example.org"})
    assert error_of(address) == (403, "auth:reauthentication_required")
    assert reauthenticate(browser, password=user["password"],
                          code=phone.code()).status_code == 204
    assert browser.post("/v0/auth/change-password", json={
        "current_password": user["password"], "new_password": "the owner's own now"}
    ).status_code == 204


def test_a_stale_stolen_cookie_cannot_throw_the_owner_out(services):
    user, thief = signed_in(services)
    owner = services.browser()
    owner.post("/v0/auth/login", json={"email": user["email"], "password": user["password"]})
    age_session(services, thief, 11)
    owner_id = next(s["id"] for s in owner.get("/v0/auth/sessions").get_json()["sessions"]
                    if s["current"])
    one = thief.delete(f"/v0/auth/sessions/{owner_id}")
    assert error_of(one) == (403, "auth:reauthentication_required")
    others = thief.post("/v0/auth/sessions/revoke-others")
    assert error_of(others) == (403, "auth:reauthentication_required")
    assert owner.get("/v0/user/me").status_code == 200
    assert owner.post("/v0/auth/sessions/revoke-others").status_code == 204
    assert thief.get("/v0/user/me").status_code == 401
