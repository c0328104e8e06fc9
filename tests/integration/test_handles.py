"""One handle cannot pass for another (pentest L5): each family takes handles only from
`[A-Za-z0-9_]`, so nothing invisible, spaced, full-width, accented or from a look-alike script
sits beside the handle it imitates; and case never tells two handles apart."""

from __future__ import annotations

import uuid

import pytest

from tessera_shared.ids import uuid7
from tessera_shared.platform import Platform
from tests.integration.test_read_your_writes import new_user

PASSWORD = "correct horse battery staple"


def look_alikes(handle: str) -> list[str]:
    first, rest = handle[0], handle[1:]
    return [
        f"{handle}\u200b",                      # zero-width space
        f"\u0430{rest}",                          # Cyrillic a first (the fixture's handle
                                                  # starts with a Latin a)
        chr(ord(first) + 0xFEE0) + rest,         # full-width first letter
        f"  {handle}", f"{handle} ",
        f"{handle[:3]}\u202e{handle[3:]}",        # right-to-left override
        f"{handle[:3]}\u0301{handle[3:]}",        # combining accent
        "<b onmouseover=x>",
    ]


@pytest.fixture
def alice(services):
    user = new_user()
    user["handle"] = f"a{uuid.uuid4().hex[:9]}"
    assert services.browser().post("/v0/users", json=user).status_code == 201
    return user


def test_v0_refuses_every_look_alike_and_stores_nothing(services, alice):
    before = services.stored()
    for handle in look_alikes(alice["handle"]):
        answer = services.browser().post("/v0/users", json={
            **new_user(), "handle": handle})
        assert answer.status_code == 400, handle
        assert answer.get_json()["code"] == "general:validation_error", handle
    assert services.stored() == before


def test_a_handle_differing_only_in_case_is_taken_in_v0(services, alice):
    answer = services.browser().post("/v0/users", json={
        **new_user(), "handle": alice["handle"].upper()})
    assert (answer.status_code, answer.get_json()["code"]) == (409, "user:handle_already_exists")


def test_the_users_api_refuses_look_alikes_as_invalid_input(services, alice):
    before = services.stored()
    for handle in look_alikes(alice["handle"]):
        answer = services.client("auth").post("/api/users/register", json={
            "username": handle, "password": PASSWORD, "email": new_user()["email"]})
        assert (answer.status_code, answer.get_json()["data"]["message"]) == (
            422, "INVALID_INPUT"), handle
    assert services.stored() == before


def test_the_user_api_refuses_look_alikes_in_its_own_words(services, alice):
    before = services.stored()
    for handle in look_alikes(alice["handle"]):
        answer = services.browser().post("/user/create", json={
            "username": handle, "password": PASSWORD, "email": new_user()["email"]})
        body = answer.get_json()
        assert answer.status_code in {400, 406}, handle
        assert body["message"] in {
            "Username cannot contain white space",
            "Username can only contain the letters a-z and A-Z, the digits 0-9 and _"}, handle
    assert services.stored() == before


def test_user_service_itself_refuses_a_handle_outside_the_alphabet(services):
    """Whichever family (or a future one) asks, the owner of profiles holds the line."""
    internal = Platform.of(services.apps["auth"]).internal
    for handle in ("\uff41lice", "ali\u200bce", "al ice"):
        answer = internal.call("user", "POST", "/internal/profiles", {
            "id": str(uuid7()), "handle": handle, "display_name": "Mallory"})
        assert (answer.status, answer.data["code"]) == (400, "user:invalid_handle"), handle


def test_registry_clients_see_every_handle_in_their_alphabet(services):
    user = {**new_user(), "handle": f"Zed_{uuid.uuid4().hex[:6].upper()}"}
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    user_id = browser.get(f"/v0/users/profile?handle={user['handle']}").get_json()["id"]
    answer = services.client("registry").get(f"/api/get/{user_id}").get_json()
    assert answer["data"]["username"] == user["handle"].lower()


def test_a_handle_outside_the_alphabet_is_never_available(services):
    for handle in ("a.b", "ab\u200bc", "\u0430bc"):
        answer = services.browser().get(f"/v0/users/handle/{handle}/available")
        assert answer.get_json() == {"available": False}, handle
