"""Sign-ups are limited per address, across every family together (pentest L6: 200 accounts,
and 200 mails to addresses of the sender's choosing, came from one address in 6.4 s)."""

from __future__ import annotations

from tessera_shared.config import Settings
from tests.integration.test_read_your_writes import new_user

LIMIT = Settings.sign_ups_per_address


def sign_ups(browser) -> dict[str, object]:
    """One attempt in each family that makes accounts with a password, from `browser`."""
    v0, users_api, user_api = new_user(), new_user(), new_user()
    return {
        "v0": browser.post("/v0/users", json=v0),
        "users API": browser.post("/api/users/register", json={
            "username": users_api["handle"], "password": users_api["password"],
            "email": users_api["email"]}),
        "user API": browser.post("/user/create", json={
            "username": user_api["handle"], "password": user_api["password"],
            "email": user_api["email"]}),
    }


def test_one_address_makes_a_limited_number_of_accounts_in_all_families_together(services):
    browser = services.browser()
    taken = new_user()
    assert browser.post("/v0/users", json=taken).status_code == 201
    # A refused attempt counts too: a taken address answers differently, so it is a probe.
    assert browser.post("/v0/users", json={**new_user(), "email": taken["email"]}
                        ).status_code == 409
    for _ in range(LIMIT - 2 - 3):  # the three below reach the limit
        assert browser.post("/v0/users", json=new_user()).status_code == 201
    assert {family: answer.status_code for family, answer in sign_ups(browser).items()} == {
        "v0": 201, "users API": 200, "user API": 200}
    before = services.stored()

    refused = sign_ups(browser)
    assert services.stored() == before
    assert (refused["v0"].status_code, refused["v0"].get_json()["code"]) == (
        429, "rate_limit:exceeded")
    assert (refused["users API"].status_code, refused["users API"].get_json()["data"][
        "message"]) == (429, "TOO_MANY_REQUESTS")
    assert (refused["user API"].status_code, refused["user API"].get_json()["statusCode"]) == (
        429, "429")
    assert "try again later" in refused["user API"].get_json()["message"]

    assert all(answer.status_code in {200, 201}
               for answer in sign_ups(services.browser()).values())  # another address

