"""Passkeys through the real gateway and services: the software authenticator of
tests/passkey.py against py_webauthn's verifier, the browser binding kept by the gateway's
cookies, the audit trail's security entries, and the account's deletion."""

from __future__ import annotations

import requests

from tests.e2e.conftest import eventually, signed_in, visitor
from tests.e2e.test_v0_action_logs import actions_of, listing
from tests.passkey import SoftAuthenticator


def authenticator_for(platform) -> SoftAuthenticator:
    """An authenticator in a browser at the platform's passkey origin (localhost)."""
    return SoftAuthenticator(origin=platform.url.replace("127.0.0.1", "localhost"))


def add_passkey(platform, client: requests.Session, key: SoftAuthenticator) -> None:
    options = client.post(f"{platform.url}/v0/auth/passkeys/options", timeout=10)
    assert options.status_code == 200, options.text
    added = client.post(f"{platform.url}/v0/auth/passkeys", timeout=10,
                        json={"credential": key.create(options.json())})
    assert added.status_code == 201, added.text


def with_passkey(platform):
    user, client, user_id = signed_in(platform, verified=True)
    key = authenticator_for(platform)
    add_passkey(platform, client, key)
    return user, client, user_id, key


def passkey_sign_in(platform, client: requests.Session, key: SoftAuthenticator):
    options = client.post(f"{platform.url}/v0/auth/login/passkey/options", json={}, timeout=10)
    assert options.status_code == 200, options.text
    return client.post(f"{platform.url}/v0/auth/login/passkey", timeout=10,
                       json={"credential": key.get(options.json())})


def test_a_passkey_signs_a_new_browser_in_and_its_owner_alone_sees_the_entries(platform):
    _, _, user_id, key = with_passkey(platform)
    browser = visitor()
    answer = passkey_sign_in(platform, browser, key)
    assert answer.status_code == 204, answer.text
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert browser.get(f"{platform.url}/v0/user/me", timeout=10).json()["id"] == user_id
    # the client reads its own write: the passkey's use is there at once
    [listed] = browser.get(f"{platform.url}/v0/auth/passkeys", timeout=10).json()["passkeys"]
    assert listed["last_used_at"] is not None

    wanted = {"auth:passkey_add", "auth:passkey_use", "auth:login"}
    page = eventually_listing(platform, browser, user_id, wanted)
    used = next(e for e in page["data"] if e["action"] == "auth:passkey_use")
    assert used["actor_ip"] == browser.headers["X-Forwarded-For"] + "/32"
    assert not wanted & set(actions_of(listing(platform, user_id=user_id)))  # anonymous
    _, stranger, _ = signed_in(platform)
    assert not wanted & set(actions_of(listing(platform, stranger, user_id=user_id)))


def test_a_challenge_is_bound_to_the_browser_that_asked_for_it(platform):
    _, _, _, key = with_passkey(platform)
    theirs, mine = visitor(), visitor()
    options = theirs.post(f"{platform.url}/v0/auth/login/passkey/options", json={}, timeout=10)
    assert "anonymous_user_id" in theirs.cookies  # the binding, given on a first visit
    answer = mine.post(f"{platform.url}/v0/auth/login/passkey", timeout=10,
                       json={"credential": key.get(options.json())})
    assert answer.status_code == 400
    assert answer.json()["code"] == "passkey:invalid_challenge"
    assert "session_id" not in mine.cookies


def test_a_deleted_account_signs_in_with_its_passkey_no_more(platform):
    user, client, _, key = with_passkey(platform)
    deleted = client.delete(f"{platform.url}/v0/user/me", json={"password": user["password"]},
                            timeout=10)
    assert deleted.status_code == 204, deleted.text

    def refused() -> bool:
        answer = passkey_sign_in(platform, visitor(), key)
        assert answer.status_code in {204, 401}, answer.text
        return answer.status_code == 401 and answer.json()["code"] == (
            "passkey:unknown_credential")

    eventually(refused)


def test_the_spec_documents_every_passkey_operation(platform):
    spec = requests.get(f"{platform.url}/swagger.json", timeout=10).json()
    operations = {(path, method) for path, item in spec["paths"].items() for method in item
                  if "passkey" in path and method != "parameters"}
    assert operations == {
        ("/v0/auth/passkeys", "get"), ("/v0/auth/passkeys", "post"),
        ("/v0/auth/passkeys/options", "post"), ("/v0/auth/passkeys/{passkey_id}", "patch"),
        ("/v0/auth/passkeys/{passkey_id}", "delete"), ("/v0/auth/login/passkey", "post"),
        ("/v0/auth/login/passkey/options", "post")}
    login = spec["paths"]["/v0/auth/login/passkey"]["post"]
    assert {"204", "202", "400", "401"} <= set(login["responses"])
    assert login["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorEnvelope")


def eventually_listing(platform, client, user_id, wanted):
    found = {}

    def arrived() -> bool:
        found["page"] = listing(platform, client, user_id=user_id)
        return wanted <= set(actions_of(found["page"]))

    eventually(arrived)
    return found["page"]
