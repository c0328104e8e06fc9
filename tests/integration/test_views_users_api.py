"""The users API's refusals, in process: the original's messages for each kind of bad input.
Its flows across services (sign-up saga, sessions shared with v0) are in tests/e2e."""

from __future__ import annotations

import uuid

import pytest

from tessera_shared.clients.profiles import NewProfile


def message_of(answer):
    body = answer.get_json()
    return answer.status_code, body["success"], body["data"]["message"]


@pytest.mark.parametrize(("body", "expected"), [
    ({"username": "someone"}, (422, False, "REGISTER_FOR_A_PASSWORD")),
    ({"password": "whatever it is"}, (422, "false", "INVALID_INPUT")),
    ({"username": ["a"], "password": "x"}, (422, "false", "INVALID_INPUT")),
])
def test_incomplete_logins_get_the_originals_messages(services, body, expected):
    answer = services.client("auth").post("/api/login", json=body)
    assert message_of(answer) == expected


@pytest.mark.parametrize("changes", [{"email": "not an email"}, {"email": None},
                                     {"password": "short"}, {"password": "password123"},
                                     {"username": "   "}, {"username": None}])
def test_bad_registrations_are_invalid_input_and_leave_nothing(services, changes):
    handle = f"u{uuid.uuid4().hex[:10]}"
    body = {"username": handle, "password": "correct horse battery staple",
            "email": f"{handle}@example.com", **changes}
    body = {key: value for key, value in body.items() if value is not None}
    before = services.stored()
    answer = services.client("auth").post("/api/users/register", json=body)
    assert message_of(answer) == (422, "false", "INVALID_INPUT")
    assert answer.get_json()["data"]["details"]
    assert services.stored() == before


@pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'"text"', b"null"])
def test_malformed_bodies_are_invalid_input(services, body):
    for path in ("/api/login", "/api/users/register", "/api/users/modifypassword"):
        answer = services.client("auth").post(path, data=body, content_type="application/json")
        assert message_of(answer) == (422, "false", "INVALID_INPUT"), path


def register(services, **overrides):
    handle = overrides.pop("username", f"u{uuid.uuid4().hex[:10]}")
    body = {"username": handle, "password": "correct horse battery staple",
            "email": f"{handle}@example.com", **overrides}
    return body, services.client("auth").post("/api/users/register", json=body)


def test_a_taken_username_is_told_first_even_when_the_email_is_taken_too(services):
    first, answer = register(services)
    assert message_of(answer) == (200, True, "USER_INSERT_OK")
    before = services.stored()
    _, again = register(services, username=first["username"].upper(), email=first["email"])
    assert message_of(again) == (200, False, "ERROR_LOGIN_WITH_PASSWORD")
    _, same_email = register(services, email=first["email"])
    assert message_of(same_email) == (409, False, "EMAIL_ALREADY_EXISTS")
    assert services.stored() == before


def test_a_code_for_an_unknown_username_is_refused_as_the_document_says(services):
    unknown = f"nobody{uuid.uuid4().hex[:8]}"
    for answer in (services.client("auth").get(f"/api/users/requestotp?username={unknown}"),
                   services.client("auth").post("/api/users/requestotp",
                                                json={"username": unknown})):
        assert message_of(answer) == (403, False, "ERROR_INVALID_USERNAME")
    assert services.mail_to(f"{unknown}@example.com") == []


def test_a_code_for_a_user_without_an_email_says_so(services):
    """A registry keyholder has a profile (so a username) but no account, so no address."""
    handle = f"k{uuid.uuid4().hex[:10]}"
    with services.apps["auth"].app_context():
        services.apps["auth"].extensions["auth"].accounts.profiles.create(
            NewProfile(str(uuid.uuid4()), handle, handle))
    answer = services.client("auth").get(f"/api/users/requestotp?username={handle}")
    assert message_of(answer) == (200, False, "ERROR_NO_EMAIL_SET")
