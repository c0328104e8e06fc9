"""v0 two-factor authentication through the gateway: TOTP from setup to login, backup codes,
and the ways in it must refuse (replays, spent temp tokens, guessing)."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlsplit

import requests

from tests.authenticator import Authenticator
from tests.e2e.conftest import eventually, signed_in, visitor

PNG = b"\x89PNG\r\n\x1a\n"


def with_totp(platform):
    """A signed-in user who turned TOTP on: user, client, their phone, their backup codes."""
    user, client, user_id = signed_in(platform, verified=True)
    setup = client.post(f"{platform.url}/v0/auth/totp/setup")
    assert setup.status_code == 200, setup.text
    phone = Authenticator(setup.json()["qr_code_uri"])
    enabled = client.post(f"{platform.url}/v0/auth/totp/enable", json={"code": phone.code()})
    assert enabled.status_code == 200, enabled.text
    return user, client, phone, enabled.json()["backup_codes"], user_id


def password_step(platform, user):
    """The first login step with TOTP on: a fresh client and the temp token it got."""
    client = visitor()
    answer = client.post(f"{platform.url}/v0/auth/login",
                         json={"email": user["email"], "password": user["password"]})
    assert answer.status_code == 202, answer.text
    assert "session_id" not in client.cookies
    return client, answer.json()["temp_token"]


def verify(platform, client, temp_token, code):
    return client.post(f"{platform.url}/v0/auth/totp/verify",
                       json={"temp_token": temp_token, "code": code})


def error_of(answer):
    return answer.status_code, answer.json()["code"]


def status_of(platform, client):
    answer = client.get(f"{platform.url}/v0/auth/totp/status")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_setup_gives_a_scannable_secret_that_is_not_in_force_until_enabled(platform):
    user, client, _ = signed_in(platform, verified=True)
    setup = client.post(f"{platform.url}/v0/auth/totp/setup").json()

    assert base64.b64decode(setup["qr_code_base64"]).startswith(PNG)
    uri = urlsplit(setup["qr_code_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == f"/Tessera:{user['email'].replace('@', '%40')}"
    assert re.fullmatch(r"[A-Z2-7]{32}", parse_qs(uri.query)["secret"][0])
    assert status_of(platform, client) == {"enabled": False}
    login = visitor().post(f"{platform.url}/v0/auth/login",
                           json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 204  # set up, not enabled: no second step yet


def test_with_totp_on_a_login_needs_a_code_after_the_password(platform):
    user, client, phone, backup_codes, _ = with_totp(platform)
    assert len(backup_codes) == 10
    assert all(re.fullmatch(r"[A-Z0-9]{8}", code) for code in backup_codes)
    status = status_of(platform, client)
    assert status["enabled"] is True
    assert status["backup_codes_remaining"] == 10
    assert "enabled_at" in status

    newcomer, temp_token = password_step(platform, user)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", temp_token)
    assert newcomer.get(f"{platform.url}/v0/user/me").status_code == 401
    signed = verify(platform, newcomer, temp_token, phone.code())
    assert signed.status_code == 204
    assert "HttpOnly" in signed.headers["Set-Cookie"]
    assert newcomer.get(f"{platform.url}/v0/user/me").status_code == 200


def test_the_temp_token_is_spent_by_a_wrong_code(platform):
    user, _client, phone, _codes, _ = with_totp(platform)
    client, token = password_step(platform, user)
    assert error_of(verify(platform, client, token, phone.wrong_code())) == (
        400, "totp:invalid_code")
    assert error_of(verify(platform, client, token, phone.code())) == (
        400, "totp:temp_token_invalid")
    assert error_of(verify(platform, client, "made-up", phone.code())) == (
        400, "totp:temp_token_invalid")


def test_a_backup_code_signs_in_once(platform):
    user, client, _phone, backup_codes, _ = with_totp(platform)
    first, token = password_step(platform, user)
    assert verify(platform, first, token, backup_codes[0].lower()).status_code == 204
    assert status_of(platform, client)["backup_codes_remaining"] == 9
    second, token = password_step(platform, user)
    assert error_of(verify(platform, second, token, backup_codes[0])) == (
        400, "totp:invalid_code")


def test_when_backup_codes_run_out_the_app_is_needed(platform):
    user, client, phone, backup_codes, _ = with_totp(platform)
    for code in backup_codes:
        newcomer, token = password_step(platform, user)
        assert verify(platform, newcomer, token, code).status_code == 204
    newcomer, token = password_step(platform, user)
    assert error_of(verify(platform, newcomer, token, "ABCDEFGH")) == (
        401, "totp:backup_code_exhausted")
    regenerated = client.post(f"{platform.url}/v0/auth/totp/backup-codes/regenerate",
                              json={"code": phone.code()})
    assert regenerated.status_code == 200
    assert status_of(platform, client)["backup_codes_remaining"] == 10


def test_regenerated_backup_codes_replace_the_old_ones(platform):
    user, client, phone, old_codes, _ = with_totp(platform)
    regenerate = f"{platform.url}/v0/auth/totp/backup-codes/regenerate"
    assert error_of(client.post(regenerate, json={"code": old_codes[0]})) == (
        400, "general:validation_error")  # a backup code cannot mint more of itself
    new_codes = client.post(regenerate, json={"code": phone.code()}).json()["backup_codes"]
    assert not set(new_codes) & set(old_codes)
    newcomer, token = password_step(platform, user)
    assert error_of(verify(platform, newcomer, token, old_codes[1])) == (
        400, "totp:invalid_code")
    newcomer, token = password_step(platform, user)
    assert verify(platform, newcomer, token, new_codes[1]).status_code == 204


def test_disabling_takes_a_code_and_brings_back_password_only_logins(platform):
    user, client, phone, backup_codes, _ = with_totp(platform)
    disable = f"{platform.url}/v0/auth/totp/disable"
    assert error_of(client.post(disable, json={"code": "1234567"})) == (
        400, "totp:invalid_code")
    assert error_of(client.post(disable, json={"code": phone.wrong_code()})) == (
        400, "totp:invalid_code")
    assert client.post(disable, json={"code": backup_codes[0]}).status_code == 204
    assert status_of(platform, client) == {"enabled": False}
    assert error_of(client.post(disable, json={"code": phone.code()})) == (
        400, "totp:not_enabled")
    login = visitor().post(f"{platform.url}/v0/auth/login",
                           json={"email": user["email"], "password": user["password"]})
    assert login.status_code == 204


def test_setup_and_enable_refuse_out_of_order_or_wrong_requests(platform):
    _user, client, _ = signed_in(platform, verified=True)
    enable = f"{platform.url}/v0/auth/totp/enable"
    assert error_of(client.post(enable, json={"code": "123456"})) == (400, "totp:not_enabled")
    phone = Authenticator(client.post(f"{platform.url}/v0/auth/totp/setup").json()[
        "qr_code_uri"])
    assert error_of(client.post(enable, json={"code": phone.wrong_code()})) == (
        400, "totp:invalid_code")
    assert error_of(client.post(enable, json={"code": "12345"})) == (
        400, "general:validation_error")
    assert error_of(client.post(enable, json={"code": 123456})) == (400, "general:bad_request")
    assert client.post(enable, json={"code": phone.code()}).status_code == 200
    assert error_of(client.post(enable, json={"code": phone.code()})) == (
        409, "totp:already_enabled")
    assert error_of(client.post(f"{platform.url}/v0/auth/totp/setup")) == (
        409, "totp:already_enabled")


def test_totp_settings_need_a_session(platform):
    anonymous = visitor()
    for method, path in (("POST", "setup"), ("POST", "enable"), ("GET", "status"),
                         ("POST", "disable"), ("POST", "backup-codes/regenerate")):
        answer = anonymous.request(method, f"{platform.url}/v0/auth/totp/{path}",
                                   json={"code": "123456"})
        assert error_of(answer) == (401, "user:unauthorized"), path


def test_guessing_codes_is_throttled_and_then_even_the_right_code_looks_wrong(platform):
    _user, client, phone, _codes, _ = with_totp(platform)
    disable = f"{platform.url}/v0/auth/totp/disable"
    for _ in range(6):
        assert error_of(client.post(disable, json={"code": phone.wrong_code()})) == (
            400, "totp:invalid_code")
    assert error_of(client.post(disable, json={"code": phone.code()})) == (
        400, "totp:invalid_code")
    assert status_of(platform, client)["enabled"] is True


def test_guessing_mailed_reset_codes_does_not_lock_the_owner_s_totp(platform):
    user, _client, phone, _codes, _ = with_totp(platform)
    asked = requests.get(f"{platform.url}/api/users/requestotp",
                         params={"username": user["handle"]}).json()["data"]["message"]
    for n in range(12):  # a stranger who knows only the username
        requests.post(f"{platform.url}/api/users/modifypassword", json={
            "userhash": asked["userhash"], "reqid": asked["reqid"], "otp": f"{100000 + n}",
            "password": "a thief's passphrase"})
    client, temp_token = password_step(platform, user)
    assert verify(platform, client, temp_token, phone.code()).status_code == 204


def test_with_totp_on_deleting_the_account_takes_a_code(platform):
    user, client, phone, _codes, _ = with_totp(platform)
    me = f"{platform.url}/v0/user/me"
    assert error_of(client.delete(me, json={"password": user["password"]})) == (
        400, "general:bad_request")
    assert error_of(client.delete(me, json={"code": phone.wrong_code()})) == (
        400, "totp:invalid_code")
    assert client.delete(me, json={"code": phone.code()}).status_code == 204
    assert client.get(me).status_code == 401


def test_totp_changes_and_second_step_failures_are_logged_for_their_actor_only(platform):
    user, client, phone, _codes, user_id = with_totp(platform)
    newcomer, token = password_step(platform, user)
    verify(platform, newcomer, token, phone.wrong_code())
    client.post(f"{platform.url}/v0/auth/totp/disable", json={"code": phone.code()})

    def actions(reader):
        page = reader.get(f"{platform.url}/v0/action-logs",
                          params={"limit": 100, "user_id": user_id}).json()
        return [entry["action"] for entry in page["data"]]

    expected = {"auth:totp_enable", "auth:login_failed", "auth:totp_disable"}
    eventually(lambda: expected <= set(actions(client)))
    assert not expected & set(actions(requests))


def test_turning_totp_on_ends_the_other_sessions_and_tells_the_owner(platform, mailbox):
    user, thief, _ = signed_in(platform, verified=True)
    owner = visitor()
    owner.post(f"{platform.url}/v0/auth/login",
               json={"email": user["email"], "password": user["password"]})
    setup = owner.post(f"{platform.url}/v0/auth/totp/setup").json()
    phone = Authenticator(setup["qr_code_uri"])
    codes = owner.post(f"{platform.url}/v0/auth/totp/enable", json={"code": phone.code()})
    assert codes.status_code == 200
    assert thief.get(f"{platform.url}/v0/user/me").status_code == 401
    assert owner.get(f"{platform.url}/v0/user/me").status_code == 200
    told = mailbox.wait_for(user["email"], "Your two-factor authentication changed")
    assert "turned on" in told.get_content()
    owner.post(f"{platform.url}/v0/auth/totp/disable", json={"code": phone.code()})
    off = mailbox.wait_for(user["email"], "Your two-factor authentication changed", count=2)
    assert "turned off" in off.get_content()
