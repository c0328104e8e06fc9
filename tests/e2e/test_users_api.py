"""The users API (manage-my-damn-life-compatible) through the gateway: its envelope, messages
and quirks, one user base with v0, sessions as Basic credentials, and the mailed-code reset."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
import requests

from tests.authenticator import Authenticator
from tests.e2e.conftest import (
    eventually,
    launch,
    new_user,
    signed_in,
    unique,
    verify_email,
    visitor,
)

RESET_SUBJECT = re.compile(r"(\d{6}) is your code to reset your Tessera password")


def userhash(username: str) -> str:
    return hashlib.sha512(username.encode()).hexdigest()


def basic(name_hash: str, ssid: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name_hash}:{ssid}".encode()).decode()}


def register(platform, client=None, **overrides):
    handle = overrides.pop("username", unique())
    body = {"username": handle, "password": "correct horse battery staple",
            "email": f"{handle}@example.com", **overrides}
    return body, (client or visitor()).post(f"{platform.url}/api/users/register", json=body)


def registered(platform):
    body, answer = register(platform)
    assert answer.json() == {"success": True, "data": {"message": "USER_INSERT_OK"}}
    return body


def log_in(platform, user, path="/api/login", client=None, **extra):
    return (client or visitor()).post(f"{platform.url}{path}", json={
        "username": user["username"], "password": user["password"], **extra})


def ssid_of(platform, user, **extra):
    answer = log_in(platform, user, **extra)
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["message"]["ssid"]


def info(platform, headers):
    return requests.get(f"{platform.url}/api/users/info", headers=headers)


def message_of(answer):
    return answer.status_code, answer.json()["success"], answer.json()["data"]["message"]


def test_a_registered_user_signs_in_and_reads_their_info(platform):
    signed_in(platform)  # not the platform's first account, which would be an admin
    user = registered(platform)
    for path in ("/api/login", "/api/login/", "/api/users/login"):
        answer = log_in(platform, user, path)
        assert answer.status_code == 200, path
        assert answer.json()["success"] == "true"  # a string, as the original's login
        assert answer.json()["data"]["message"]["userhash"] == userhash(user["username"])
    ssid = answer.json()["data"]["message"]["ssid"]

    me = info(platform, basic(userhash(user["username"]), ssid))
    assert me.status_code == 200
    details = me.json()["data"]["message"]
    assert me.json()["success"] is True
    assert set(details) == {"users_id", "username", "email", "created", "level", "userhash",
                            "mobile"}
    assert (details["username"], details["email"]) == (user["username"], user["email"])
    assert (details["level"], details["mobile"]) == ("0", None)
    assert abs(int(details["created"]) - time.time()) < 600  # unix seconds, UTC


def test_login_takes_a_form_too(platform):
    user = registered(platform)
    answer = visitor().post(f"{platform.url}/api/login", data={
        "username": user["username"], "password": user["password"]})
    assert message_of(answer)[:2] == (200, "true")


def test_wrong_passwords_and_unknown_users_get_the_same_answer(platform):
    user = registered(platform)
    wrong = log_in(platform, {**user, "password": "not the password"})
    unknown = log_in(platform, {**user, "username": unique()})
    assert message_of(wrong) == message_of(unknown) == (401, "false", "INVALID_PASSWORD")


def test_wrong_methods_get_the_originals_messages(platform):
    assert message_of(requests.get(f"{platform.url}/api/login")) == (
        403, False, "INVALID_METHOD.")
    assert message_of(requests.get(f"{platform.url}/api/users/register")) == (
        422, "false", "INVALID_METHOD")
    assert message_of(requests.post(f"{platform.url}/api/users/info")) == (
        422, "false", "INVALID_METHOD")


def test_a_taken_username_is_told_to_log_in_whatever_its_case(platform):
    user = registered(platform)
    _, again = register(platform, username=user["username"].upper(),
                        email=f"{unique()}@example.com")
    assert message_of(again) == (200, False, "ERROR_LOGIN_WITH_PASSWORD")
    _, same_email = register(platform, email=user["email"])
    assert message_of(same_email) == (409, False, "EMAIL_ALREADY_EXISTS")
    _, both = register(platform, username=user["username"], email=user["email"])
    assert message_of(both) == (200, False, "ERROR_LOGIN_WITH_PASSWORD")  # the username first


def test_users_api_and_v0_share_one_user_base(platform):
    user = registered(platform)
    v0_login = visitor().post(f"{platform.url}/v0/auth/login",
                              json={"email": user["email"], "password": user["password"]})
    assert v0_login.status_code == 204
    v0_user, _client, _ = signed_in(platform)
    answer = log_in(platform, {"username": v0_user["handle"], "password": v0_user["password"]})
    assert answer.json()["data"]["message"]["userhash"] == userhash(v0_user["handle"])


def test_credentials_that_are_not_a_live_session_of_that_user_are_refused(platform):
    user, other = registered(platform), registered(platform)
    ssid = ssid_of(platform, user)
    refused = [
        {},
        {"Authorization": f"Bearer {ssid}"},
        {"Authorization": "Basic !!!not-base64"},
        basic(userhash(user["username"]), "made-up"),
        basic(userhash(other["username"]), ssid),  # someone else's userhash
    ]
    for headers in refused:
        assert message_of(info(platform, headers)) == (401, False, "PLEASE_LOGIN"), headers


def test_at_most_three_users_api_logins_live_at_once_and_v0_sessions_are_left_alone(platform):
    user = registered(platform)
    v0 = visitor()
    v0.post(f"{platform.url}/v0/auth/login",
            json={"email": user["email"], "password": user["password"]})
    ssids = [ssid_of(platform, user) for _ in range(4)]
    name_hash = userhash(user["username"])
    assert info(platform, basic(name_hash, ssids[0])).status_code == 401  # the oldest ended
    assert all(info(platform, basic(name_hash, s)).status_code == 200 for s in ssids[1:])
    assert v0.get(f"{platform.url}/v0/user/me").status_code == 200


def test_a_mailed_code_resets_the_password_once_and_ends_every_session(platform, mailbox):
    user = registered(platform)
    ssid = ssid_of(platform, user)
    asked = requests.get(f"{platform.url}/api/users/requestotp",
                         params={"username": user["username"]}).json()["data"]["message"]
    assert asked["userhash"] == userhash(user["username"])
    assert re.fullmatch(r"[0-9a-f]{16}", asked["reqid"])
    code = RESET_SUBJECT.fullmatch(mailbox.wait_for(user["email"], RESET_SUBJECT)["Subject"])[1]

    change = {"userhash": asked["userhash"], "reqid": asked["reqid"], "OTP": code,
              "password": "a brand new passphrase"}
    modify = f"{platform.url}/api/users/modifypassword"
    assert message_of(requests.post(modify, json={**change, "userhash": userhash("x")})) == (
        401, False, "ERROR_INVALID_OTP")
    assert message_of(requests.post(modify, json=change)) == (200, True, "PASSWORD_RESET_OK")
    assert message_of(requests.post(modify, json=change)) == (401, False, "ERROR_INVALID_OTP")

    assert info(platform, basic(asked["userhash"], ssid)).status_code == 401
    assert log_in(platform, user).status_code == 401
    assert log_in(platform, {**user, "password": change["password"]}).status_code == 200


def test_a_new_code_replaces_the_previous_one(platform, mailbox):
    user = registered(platform)
    ask = f"{platform.url}/api/users/requestotp"
    first = requests.post(ask, json={"username": user["username"]}).json()["data"]["message"]
    first_code = RESET_SUBJECT.fullmatch(mailbox.wait_for(user["email"], RESET_SUBJECT)[
        "Subject"])[1]
    requests.get(ask, params={"username": user["username"]})
    mailbox.wait_for(user["email"], RESET_SUBJECT, count=2)
    answer = requests.post(f"{platform.url}/api/users/modifypassword", json={
        "userhash": first["userhash"], "reqid": first["reqid"], "otp": first_code,
        "password": "a brand new passphrase"})
    assert message_of(answer) == (401, False, "ERROR_INVALID_OTP")


def test_asking_a_code_for_an_unknown_user_is_refused_and_mails_nothing(platform, mailbox):
    name = unique()
    answer = requests.get(f"{platform.url}/api/users/requestotp", params={"username": name})
    assert message_of(answer) == (403, False, "ERROR_INVALID_USERNAME")
    assert mailbox.received(f"{name}@example.com", RESET_SUBJECT) == []
    missing = requests.get(f"{platform.url}/api/users/requestotp")
    assert message_of(missing) == (422, "false", "INVALID_INPUT")


def test_with_totp_on_a_users_api_login_also_needs_a_code(platform):
    user = registered(platform)
    client = visitor()
    client.post(f"{platform.url}/v0/auth/login",
                json={"email": user["email"], "password": user["password"]})
    # a users-API sign-up mails no link; the address is verified the v0 way before TOTP
    assert client.post(f"{platform.url}/v0/auth/resend-verification-email").status_code == 204
    verify_email(platform, user["email"])
    phone = Authenticator(client.post(f"{platform.url}/v0/auth/totp/setup").json()[
        "qr_code_uri"])
    client.post(f"{platform.url}/v0/auth/totp/enable", json={"code": phone.code()})

    assert message_of(log_in(platform, user)) == (401, False, "TOTP_REQUIRED")
    assert message_of(log_in(platform, user, code=phone.wrong_code()))[:2] == (400, False)
    assert message_of(log_in(platform, user, code=phone.code()))[:2] == (200, "true")


def test_registration_status_says_open(platform):
    answer = requests.get(f"{platform.url}/api/users/settings/registrationstatus")
    assert answer.json() == {"success": True, "data": {"message": True}}


@pytest.fixture
def closed_platform(tmp_path_factory, own_database_server):
    """A platform of its own, with no account yet, registration switched off and a low limit
    of sign-ups per address."""
    env = {"DATABASE_URL": own_database_server or "", "REDIS_URL": "",  # a Redis of its own
           "REGISTRATION_OPEN": "false", "TRUSTED_PROXIES": "127.0.0.1/32",
           "SIGN_UPS_PER_ADDRESS": "3"}
    running = launch(tmp_path_factory.mktemp("closed") / "var", env)
    yield running
    running.stop()


def test_the_first_user_is_made_while_registration_is_closed_and_is_an_admin(closed_platform):
    status = requests.get(f"{closed_platform.url}/api/users/settings/registrationstatus")
    assert status.json()["data"]["message"] is False
    founder = registered(closed_platform)
    _, second = register(closed_platform)
    assert message_of(second) == (401, False, "CANT_CREATE_USER")

    ssid = ssid_of(closed_platform, founder)
    me = info(closed_platform, basic(userhash(founder["username"]), ssid)).json()
    assert me["data"]["message"]["level"] == "1"
    # An ssid is a Tessera session: as the v0 cookie it shows the admin the whole log.
    admin = requests.Session()
    admin.cookies.set("session_id", ssid)

    def logins_shown_with_addresses() -> bool:
        page = admin.get(f"{closed_platform.url}/v0/action-logs", params={"limit": 100}).json()
        return any(entry["action"] == "auth:login" and entry["actor_ip"]
                   for entry in page["data"])

    eventually(logins_shown_with_addresses)
    v0_sign_up = requests.post(f"{closed_platform.url}/v0/users", json=new_user())
    assert v0_sign_up.status_code == 201  # the switch is the users API's

    # One address makes at most SIGN_UPS_PER_ADDRESS (3 here) accounts, in every family
    # together; a refused attempt counts too.
    neighbour = visitor()
    _, closed = register(closed_platform, neighbour)
    assert message_of(closed) == (401, False, "CANT_CREATE_USER")
    for _ in range(2):
        assert neighbour.post(f"{closed_platform.url}/v0/users",
                              json=new_user()).status_code == 201
    over = neighbour.post(f"{closed_platform.url}/v0/users", json=new_user())
    assert (over.status_code, over.json()["code"]) == (429, "rate_limit:exceeded")
    assert visitor().post(f"{closed_platform.url}/v0/users", json=new_user()).status_code == 201


def test_a_v0_password_change_retires_a_mailed_code_sent_before_it(platform, mailbox):
    user = registered(platform)
    asked = requests.get(f"{platform.url}/api/users/requestotp",
                         params={"username": user["username"]}).json()["data"]["message"]
    code = RESET_SUBJECT.fullmatch(mailbox.wait_for(user["email"], RESET_SUBJECT)["Subject"])[1]
    v0 = visitor()
    v0.post(f"{platform.url}/v0/auth/login",
            json={"email": user["email"], "password": user["password"]})
    assert v0.post(f"{platform.url}/v0/auth/change-password", json={
        "current_password": user["password"], "new_password": "changed on purpose"}
    ).status_code == 204
    stale = requests.post(f"{platform.url}/api/users/modifypassword", json={
        "userhash": asked["userhash"], "reqid": asked["reqid"], "otp": code,
        "password": "a thief's passphrase"})
    assert message_of(stale) == (401, False, "ERROR_INVALID_OTP")
