"""The users API's refusals, in process: the original's messages for each kind of bad input.
Its flows across services (sign-up saga, sessions shared with v0) are in tests/e2e."""

from __future__ import annotations

import uuid

import pytest


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
