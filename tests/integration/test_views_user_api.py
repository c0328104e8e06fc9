"""The user API (document 003) in process: every documented response, message for message,
and the flows behind them (sign-up, sessions shared with v0, the reset by a mailed id)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from tessera_shared.ids import digest
from tests.authenticator import Authenticator
from user_service.models import Profile
from user_service.models import db as user_db

ID_IN_MAIL = re.compile(r"give your app this reset id:\s+(\S+)")


def envelope(answer) -> tuple[int, str, str, object]:
    body = answer.get_json()
    assert set(body) == {"statusCode", "message", "data"}, body
    return answer.status_code, body["statusCode"], body["message"], body["data"]


def new_user(**overrides):
    name = f"u{uuid.uuid4().hex[:10]}"
    return {"username": name, "email": f"{name}@example.com",
            "password": "correct horse battery staple", **overrides}


def created(services, **overrides):
    user = new_user(**overrides)
    answer = services.browser().post("/user/create", json=user)
    assert answer.status_code == 200, answer.get_json()
    return user


def refusal(status: int, message: str) -> tuple[int, str, str, str]:
    return status, str(status), message, "null"


def test_create_answers_the_profile_and_mails_a_verification(services):
    user = new_user(name="Ada Lovelace", bio="Analyst", pronounce="AY-da",
                    website="https://ada.example")
    answer = services.browser().post("/user/create", json=user)
    assert envelope(answer) == (200, "200", "User created successfully", {
        "username": user["username"], "name": "Ada Lovelace", "bio": "Analyst",
        "website": "https://ada.example", "pronounce": "AY-da", "followers": 0,
        "following": 0})
    assert [mail.subject for mail in services.mail_to(user["email"])] == ["Verify your email"]
    profile = services.browser().get(f"/user/profile/{user['username']}")
    assert envelope(profile) == (200, "200", user["username"], {
        "username": user["username"], "name": "Ada Lovelace", "bio": "Analyst",
        "website": "https://ada.example", "pronounce": "AY-da", "followers": 0,
        "following": 0})


@pytest.mark.parametrize(("changes", "expected"), [
    ({"name": "Al"}, refusal(406, "Name cannot be less than 3 or over 150 characters")),
    ({"name": "n" * 151}, refusal(406, "Name cannot be less than 3 or over 150 characters")),
    ({"username": "ab"}, refusal(406, "Username cannot be less than 3 or over 100 characters")),
    ({"username": "u" * 101},
     refusal(406, "Username cannot be less than 3 or over 100 characters")),
    ({"password": "short"}, refusal(406, "Password cannot be less than 8 or over 200 characters")),
    ({"password": "p" * 201},
     refusal(406, "Password cannot be less than 8 or over 200 characters")),
    ({"email": "not-an-email"}, refusal(406, "Invalid email")),
    ({"bio": "b" * 201}, refusal(406, "Bio cannot be over 200 characters")),
    ({"username": "two words"}, refusal(400, "Username cannot contain white space")),
    ({"username": None}, refusal(400, "Username cannot be null")),
    ({"username": ""}, refusal(400, "Username cannot be empty")),
    ({"email": None}, refusal(400, "Email cannot be null")),
    ({"email": ""}, refusal(400, "Email cannot be empty")),
    ({"password": None}, refusal(400, "Password cannot be null")),
    ({"password": ""}, refusal(400, "Password cannot be empty")),
    ({"name": ""}, refusal(400, "name cannot be empty")),
    ({"bio": ""}, refusal(400, "Password cannot be bio")),  # sic, as the document words it
    ({"website": ""}, refusal(400, "Website cannot be empty")),
    ({"pronounce": ""}, refusal(400, "Pronounce cannot be empty")),
    # Beyond the document: the platform's limits, and what it cannot read.
    ({"username": "u" * 65}, refusal(406, "Username cannot be over 64 characters on this "
                                          "platform")),
    ({"website": "javascript:alert(1)"}, refusal(406, "Website must be an http(s) address")),
    ({"username": 42}, refusal(400, "Username must be text")),
    ({"bio": "tab\u0000"}, refusal(400, "Bio cannot contain control characters")),
    ({"password": "password123"}, (400, "400",
                                   "password: this password is too common; choose another.",
                                   "null")),
])
def test_create_refuses_in_the_documents_words_and_leaves_nothing(services, changes,
                                                                   expected):
    body = {key: value for key, value in new_user(**changes).items() if value is not None}
    before = services.stored()
    assert envelope(services.browser().post("/user/create", json=body)) == expected
    assert services.stored() == before


def test_a_missing_field_is_null_and_a_field_left_out_is_too(services):
    user = new_user()
    del user["email"]
    assert envelope(services.browser().post("/user/create", json=user)) == refusal(
        400, "Email cannot be null")


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_an_object_is_refused(services, raw):
    answer = services.browser().post("/user/create", data=raw,
                                     content_type="application/json")
    assert envelope(answer) == refusal(400, "The body must be a JSON object")


def test_duplicates_are_409_with_the_status_in_the_body_too(services):
    user = created(services)
    again = services.browser().post("/user/create", json=new_user(username=user["username"]))
    assert envelope(again) == refusal(409, "User already exists")
    same_email = services.browser().post("/user/create", json=new_user(email=user["email"]))
    assert envelope(same_email) == refusal(409, "Email already exists")


def test_auth_opens_a_session_that_every_family_sees(services):
    user = created(services)
    browser = services.browser()
    answer = browser.post("/user/auth", json={"username": user["username"],
                                              "password": user["password"]})
    assert envelope(answer) == (200, "200", "Authenticated", "null")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("TOKEN=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert envelope(browser.get("/user/logged")) == (200, "200", "Validation", "true")

    v0 = services.browser()
    assert v0.post("/v0/auth/login", json={"email": user["email"],
                                           "password": user["password"]}).status_code == 204
    listed = v0.get("/v0/auth/sessions").get_json()["sessions"]
    assert len(listed) == 2  # the user API's session is one of the account's sessions
    token = browser.cookies["TOKEN"]
    for headers in ({"TOKEN": token}, {"Authorization": f"Bearer {token}"}):
        header_client = services.browser()
        assert envelope(header_client.get("/user/logged", headers=headers))[2] == "Validation"


@pytest.mark.parametrize(("body", "expected"), [
    ({"password": "whatever it is"}, refusal(400, "Username cannot be null")),
    ({"username": "", "password": "whatever it is"}, refusal(400, "Username cannot be empty")),
    ({"username": "a b c", "password": "whatever it is"},
     refusal(400, "Username cannot contain white space")),
    ({"username": "ab", "password": "whatever it is"},
     refusal(406, "Username cannot be less than 3 or over 100 characters")),
    ({"username": "someone"}, refusal(400, "Password cannot be null")),
    ({"username": "someone", "password": ""}, refusal(400, "Password cannot be empty")),
    ({"username": "someone", "password": "short"},
     refusal(406, "Password cannot be less than 8 or over 200 characters")),
])
def test_auth_refuses_bad_bodies_in_the_documents_words(services, body, expected):
    assert envelope(services.browser().post("/user/auth", json=body)) == expected


def test_a_wrong_password_and_an_unknown_user_fail_alike(services):
    user = created(services)
    wrong = services.browser().post("/user/auth", json={"username": user["username"],
                                                        "password": "not the password"})
    unknown = services.browser().post("/user/auth", json={"username": "nobody-here",
                                                          "password": "not the password"})
    assert envelope(wrong) == envelope(unknown) == refusal(401, "Authenticated failed")


def test_logged_tells_no_token_from_a_token_without_a_session(services):
    assert envelope(services.browser().get("/user/logged")) == (
        404, "404", "TOKEN was not found", "false")
    stale = services.browser()
    stale.cookies["TOKEN"] = "x" * 43
    assert envelope(stale.get("/user/logged")) == (404, "404", "No auth info found", "true")


def test_with_totp_on_auth_needs_a_code_beside_the_password(services):
    user = created(services)
    [mail] = services.mail_to(user["email"])
    v0 = services.browser()
    token = re.search(r"token=([\w-]+)", mail.body).group(1)
    assert v0.post("/v0/auth/verify-email", json={"token": token}).status_code == 204
    assert v0.post("/v0/auth/login", json={"email": user["email"],
                                           "password": user["password"]}).status_code == 204
    phone = Authenticator(v0.post("/v0/auth/totp/setup").get_json()["qr_code_uri"])
    assert v0.post("/v0/auth/totp/enable", json={"code": phone.code()}).status_code == 200

    credentials = {"username": user["username"], "password": user["password"]}
    asked = services.browser().post("/user/auth", json=credentials)
    assert asked.status_code == 401
    assert "code" in asked.get_json()["message"]
    done = services.browser().post("/user/auth", json={**credentials, "code": phone.code()})
    assert envelope(done) == (200, "200", "Authenticated", "null")


def test_profile_of_an_unknown_user(services):
    assert envelope(services.browser().get("/user/profile/nobody-at-all")) == (
        404, "404", "User not found", "false")


def test_profile_counts_followers_and_blank_fields_are_empty_strings(services):
    star = created(services)
    fan = created(services)
    v0 = services.browser()
    assert v0.post("/v0/auth/login", json={"email": fan["email"],
                                           "password": fan["password"]}).status_code == 204
    star_id = v0.get(f"/v0/users/profile?handle={star['username']}").get_json()["id"]
    assert v0.post(f"/v0/users/{star_id}/follow").status_code == 204
    shown = envelope(services.browser().get(f"/user/profile/{star['username'].upper()}"))
    assert shown[3] == {"username": star["username"], "name": star["username"], "bio": "",
                        "website": "", "pronounce": "", "followers": 1, "following": 0}


def reset_id(services, email: str) -> str:
    mails = [m for m in services.mail_to(email) if m.subject == "Reset your password"]
    return ID_IN_MAIL.search(mails[-1].body).group(1)


@pytest.mark.parametrize("where", ["query", "body"])
def test_a_mailed_reset_id_sets_a_new_password_once_and_ends_every_session(services, where):
    user = created(services)
    signed_in = services.browser()
    assert signed_in.post("/user/auth", json={"username": user["username"],
                                              "password": user["password"]}).status_code == 200
    ask = (services.browser().post(f"/user/password-reset-token?email={user['email']}")
           if where == "query" else
           services.browser().post("/user/password-reset-token", json={"email": user["email"]}))
    assert envelope(ask) == (200, "200", "Password reset token generated", "null")
    token = reset_id(services, user["email"])
    new = {"uuid": token, "newPassword": "a brand new passphrase"}
    assert envelope(services.browser().post("/user/password-reset", json=new)) == (
        200, "200", "New password has been set successfully", "null")
    assert envelope(services.browser().post("/user/password-reset", json=new)) == refusal(
        404, "Token not found")
    assert envelope(signed_in.get("/user/logged"))[2] == "No auth info found"
    assert services.browser().post("/user/auth", json={
        "username": user["username"], "password": new["newPassword"]}).status_code == 200


def test_a_reset_id_that_ran_out_is_expired_not_unknown(services):
    user = created(services)
    services.browser().post("/user/password-reset-token", json={"email": user["email"]})
    token = reset_id(services, user["email"])
    redis = services.apps["auth"].extensions["tessera"].redis
    redis.delete(f"password_reset:{digest(token)}")  # what its 15 minutes running out do
    redis.set(f"password_reset:expiry:{digest(token)}", 0, keepttl=True)
    answer = services.browser().post("/user/password-reset", json={
        "uuid": token, "newPassword": "a brand new passphrase"})
    assert envelope(answer) == refusal(406, "Token is expired")
    unknown = services.browser().post("/user/password-reset", json={
        "uuid": "x" * 43, "newPassword": "a brand new passphrase"})
    assert envelope(unknown) == refusal(404, "Token not found")


@pytest.mark.parametrize(("body", "expected"), [
    ({"newPassword": "a brand new passphrase"}, refusal(400, "UUID cannot be null")),
    ({"uuid": "", "newPassword": "a brand new passphrase"}, refusal(400, "UUID cannot be empty")),
    ({"uuid": "x"}, refusal(400, "Password cannot be null")),
    ({"uuid": "x", "newPassword": ""}, refusal(400, "Password cannot be empty")),
    ({"uuid": "x", "newPassword": "short"},
     refusal(406, "Password cannot be less than 8 or over 200 characters")),
])
def test_reset_refuses_bad_bodies_in_the_documents_words(services, body, expected):
    assert envelope(services.browser().post("/user/password-reset", json=body)) == expected


def test_asking_a_reset_for_an_unknown_address_looks_the_same(services):
    address = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    answer = services.browser().post("/user/password-reset-token", json={"email": address})
    assert envelope(answer) == (200, "200", "Password reset token generated", "null")
    assert services.mail_to(address) == []
    assert envelope(services.browser().post("/user/password-reset-token")) == refusal(
        400, "Email cannot be null")
    assert envelope(services.browser().post("/user/password-reset-token?email=nope")) == (
        refusal(406, "Invalid email"))


def test_an_unknown_user_api_path_answers_in_its_envelope(services):
    answer = services.browser().get("/user/nowhere")
    assert envelope(answer)[:2] == (404, "404")
    body = json.loads(answer.data)
    assert body["data"] == "null"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"website": "http://[::1"}, refusal(406, "Website must be an http(s) address")),
    ({"website": "https://"}, refusal(406, "Website must be an http(s) address")),
    # what the documented pattern refuses (schemathesis sent it, and it was stored)
    ({"website": "https://d6u.com*"}, refusal(406, "Website must be an http(s) address")),
    ({"name": "   "}, refusal(400, "name cannot be empty")),
    ({"username": "ß" * 60 + "abcd"}, refusal(400, "Username can only contain the letters "
                                                   "a-z and A-Z, the digits 0-9 and _")),
    ({"username": "look\u200balike"}, refusal(400, "Username can only contain the letters "
                                                    "a-z and A-Z, the digits 0-9 and _")),
])
def test_create_refuses_what_would_break_or_impersonate(services, changes, expected):
    body = new_user(**changes)
    before = services.stored()
    assert envelope(services.browser().post("/user/create", json=body)) == expected
    assert services.stored() == before


def test_a_body_must_come_as_json_so_no_other_site_can_post_it(services):
    user = created(services)
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        browser = services.browser()
        answer = browser.post("/user/auth", content_type=content_type, data=json.dumps({
            "username": user["username"], "password": user["password"]}))
        assert envelope(answer) == refusal(
            400, "The body must be JSON (Content-Type: application/json)")
        assert "TOKEN" not in browser.cookies


def test_a_username_from_before_the_alphabet_with_a_slash_still_has_a_profile(services):
    handle = f"a/{uuid.uuid4().hex[:8]}"
    with services.apps["user"].app_context():
        user_db.session.add(Profile(id=str(uuid.uuid4()), handle=handle, handle_key=handle,
                                    display_name="Older"))
        user_db.session.commit()
    shown = services.browser().get(f"/user/profile/{handle}")
    assert envelope(shown)[2] == handle


def test_logout_ends_the_session_and_clears_the_cookie(services):
    user = created(services)
    browser = services.browser()
    browser.post("/user/auth", json={"username": user["username"],
                                     "password": user["password"]})
    token = browser.cookies["TOKEN"]
    answer = browser.post("/user/logout")
    assert envelope(answer) == (200, "200", "Logged out", "null")
    assert "TOKEN" not in browser.cookies
    assert envelope(services.browser().get("/user/logged", headers={"TOKEN": token}))[2] == (
        "No auth info found")
    assert envelope(services.browser().post("/user/logout")) == (
        404, "404", "TOKEN was not found", "false")
    # A token that opens no session any more is not one: logging out with it again is refused.
    again = services.browser().post("/user/logout", headers={"Cookie": f"TOKEN={token}"})
    assert envelope(again) == (404, "404", "TOKEN was not found", "false")


def test_a_token_said_in_a_header_wins_over_a_stale_cookie(services):
    user = created(services)
    fresh = services.browser()
    fresh.post("/user/auth", json={"username": user["username"], "password": user["password"]})
    stale = services.browser()
    stale.cookies["TOKEN"] = "x" * 43
    bearer = {"Authorization": f"Bearer {fresh.cookies['TOKEN']}"}
    answer = stale.get("/user/logged", headers=bearer)
    assert envelope(answer)[2] == "Validation"


def test_guessing_passwords_is_throttled_and_then_even_the_right_one_fails(services):
    user = created(services)
    guesser = services.browser()
    for _ in range(6):  # five free mistakes, then a delay
        guesser.post("/user/auth", json={"username": user["username"],
                                         "password": "not the password"})
    right = services.browser().post("/user/auth", json={"username": user["username"],
                                                        "password": user["password"]})
    assert envelope(right) == refusal(401, "Authenticated failed")


def resets_to(services, user) -> list:
    return [m for m in services.mail_to(user["email"]) if m.subject == "Reset your password"]


def test_one_address_cannot_spend_everyones_mail_budget(services):
    users = [created(services) for _ in range(31)]
    asker = services.browser()
    for user in users:
        assert asker.post("/user/password-reset-token",
                          json={"email": user["email"]}).status_code == 200
    assert all(resets_to(services, user) for user in users[:30])
    assert resets_to(services, users[30]) == []  # the 31st from one address is not sent
    services.browser().post("/user/password-reset-token", json={"email": users[30]["email"]})
    assert resets_to(services, users[30])
