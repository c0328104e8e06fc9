"""Passkeys in process: real ceremonies (the software authenticator of tests/passkey.py
against py_webauthn's verifier), and every hostile answer a clean 4xx. The platform here is
served at http://127.0.0.1:8080, so its passkeys belong to `localhost` on that port."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from auth_service.accounts import erase
from auth_service.models import Account, Passkey, db
from auth_service.passkeys import MAX_PER_ACCOUNT
from auth_service.tokens import TOTP_LOGIN
from tessera_shared.outbox import outbox
from tessera_shared.throttle import PASSKEY_CEREMONIES_PER_IP
from tests.integration.test_views_reauthentication import age_session, signed_in, with_totp
from tests.passkey import SoftAuthenticator, b64url, unb64url

ORIGIN = "http://localhost:8080"


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["code"]


def add_passkey(browser, key: SoftAuthenticator, **body):
    options = browser.post("/v0/auth/passkeys/options")
    assert options.status_code == 200, options.text
    return browser.post("/v0/auth/passkeys",
                        json={"credential": key.create(options.get_json()), **body})


def with_passkey(services, **knobs):
    user, browser = signed_in(services, verified=True)
    key = SoftAuthenticator(origin=ORIGIN, **knobs)
    added = add_passkey(browser, key, name="Laptop")
    assert added.status_code == 201, added.text
    return user, browser, key, added.get_json()


def with_totp_and_passkey(services, **knobs):
    """A user with TOTP on and a passkey: user, their phone, their authenticator."""
    user, browser, phone, _ = with_totp(services)
    key = SoftAuthenticator(origin=ORIGIN, **knobs)
    assert add_passkey(browser, key).status_code == 201
    return user, phone, key


def sign_in_options(browser, **body):
    answer = browser.post("/v0/auth/login/passkey/options", json=body)
    assert answer.status_code == 200, answer.text
    return answer.get_json()


def passkey_login(browser, credential, **body):
    return browser.post("/v0/auth/login/passkey", json={"credential": credential, **body})


def events_of(services, user_id: str, event_type: str) -> list[dict]:
    with services.apps["auth"].app_context():
        rows = db.session.scalars(sa.select(outbox.c.data).where(outbox.c.type == event_type))
        return [data for data in map(json.loads, rows) if data.get("user_id") == user_id]


def test_a_passkey_signs_in_without_a_name_and_is_listed_with_its_last_use(services):
    user, _browser, key, passkey = with_passkey(services)
    assert passkey["name"] == "Laptop"
    assert passkey["last_used_at"] is None
    assert passkey["backup_eligible"] is False
    [mail] = [m for m in services.mail_to(user["email"]) if "passkey" in m.subject]
    assert "Laptop" in mail.body

    stranger = services.browser()  # a new browser: no session, no name typed
    options = sign_in_options(stranger)
    assert options["allowCredentials"] == []
    assert options["rpId"] == "localhost"
    answer = passkey_login(stranger, key.get(options), remember_me=True)
    assert answer.status_code == 204, answer.text
    me = stranger.get("/v0/user/me")
    assert me.status_code == 200
    assert me.get_json()["email"] == user["email"]

    [listed] = stranger.get("/v0/auth/passkeys").get_json()["passkeys"]
    assert listed["id"] == passkey["id"]
    assert listed["last_used_at"] is not None
    [logged_in] = [e for e in events_of(services, me.get_json()["id"], "auth.logged_in")
                   if e["method"] == "passkey"]
    assert logged_in["session_id"]
    [added] = events_of(services, me.get_json()["id"], "auth.passkey_added")
    assert added["passkey_id"] == passkey["id"]
    assert events_of(services, me.get_json()["id"], "auth.passkey_used")


def test_a_passkey_sign_in_rotates_the_session_it_replaces(services):
    _, browser, key, _ = with_passkey(services)
    old = browser.cookies["session_id"]
    assert passkey_login(browser, key.get(sign_in_options(browser))).status_code == 204
    assert browser.cookies["session_id"] != old
    assert services.apps["auth"].extensions["tessera"].sessions.read(old) is None


def test_registering_needs_a_recent_sign_in_and_a_verified_address(services):
    _, unverified = signed_in(services)
    assert error_of(unverified.post("/v0/auth/passkeys/options")) == (403, "email:not_verified")
    _, browser = signed_in(services, verified=True)
    age_session(services, browser, minutes=11)
    assert error_of(browser.post("/v0/auth/passkeys/options")) == (
        403, "auth:reauthentication_required")
    assert browser.post("/v0/auth/passkeys/options").get_json()["details"]
    assert error_of(services.browser().post("/v0/auth/passkeys/options"))[0] == 401


def test_options_are_for_this_site_and_name_the_passkeys_it_has(services):
    _, browser, _, _ = with_passkey(services)
    options = browser.post("/v0/auth/passkeys/options").get_json()
    assert options["rp"] == {"id": "localhost", "name": "Tessera"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert len(options["excludeCredentials"]) == 1


def test_the_same_authenticator_cannot_register_one_credential_twice(services):
    _, browser, key, _ = with_passkey(services)
    options = browser.post("/v0/auth/passkeys/options").get_json()
    again = key.create(options, again=key.credentials[0])
    answer = browser.post("/v0/auth/passkeys", json={"credential": again})
    assert error_of(answer) == (409, "passkey:already_registered")


def test_a_replayed_assertion_is_refused(services):
    _, _, key, _ = with_passkey(services)
    browser = services.browser()
    assertion = key.get(sign_in_options(browser))
    assert passkey_login(browser, assertion).status_code == 204
    assert error_of(passkey_login(browser, assertion)) == (400, "passkey:invalid_challenge")


def test_a_challenge_from_another_browser_is_refused(services):
    _, _, key, _ = with_passkey(services)
    mine, theirs = services.browser(), services.browser()
    assertion = key.get(sign_in_options(theirs))
    assert error_of(passkey_login(mine, assertion)) == (400, "passkey:invalid_challenge")
    # spent by that try, so its own browser cannot use it either
    assert error_of(passkey_login(theirs, assertion)) == (400, "passkey:invalid_challenge")


def test_a_registration_is_bound_to_its_session(services):
    user, browser = signed_in(services, verified=True)
    other = services.browser()
    other.cookies["anonymous_user_id"] = browser.cookies["anonymous_user_id"]
    assert other.post("/v0/auth/login", json={"email": user["email"],
                                               "password": user["password"]}).status_code == 204
    options = browser.post("/v0/auth/passkeys/options").get_json()
    answer = other.post("/v0/auth/passkeys",
                        json={"credential": SoftAuthenticator(origin=ORIGIN).create(options)})
    assert error_of(answer) == (400, "passkey:invalid_challenge")


@pytest.mark.parametrize("where", [{"origin": "http://evil.example"},
                                   {"origin": "http://127.0.0.1:8080"},
                                   {"rp_id": "evil.example"}])
def test_an_assertion_for_another_origin_or_site_is_refused(services, where):
    _, _, key, _ = with_passkey(services)
    browser = services.browser()
    answer = passkey_login(browser, key.get(sign_in_options(browser), **where))
    assert error_of(answer) == (401, "passkey:invalid_assertion")
    assert "session_id" not in browser.cookies


@pytest.mark.parametrize("where", [{"origin": "http://evil.example"},
                                   {"rp_id": "evil.example"}])
def test_a_registration_for_another_origin_or_site_is_refused(services, where):
    _, browser = signed_in(services, verified=True)
    options = browser.post("/v0/auth/passkeys/options").get_json()
    credential = SoftAuthenticator(origin=ORIGIN).create(options, **where)
    answer = browser.post("/v0/auth/passkeys", json={"credential": credential})
    assert error_of(answer) == (400, "passkey:invalid_registration")
    assert browser.get("/v0/auth/passkeys").get_json()["passkeys"] == []


def test_a_cloned_authenticator_is_refused_when_its_counter_goes_back(services):
    user, _, key, _ = with_passkey(services)
    browser = services.browser()
    assert passkey_login(browser, key.get(sign_in_options(browser))).status_code == 204
    key.credentials[0].sign_count = 0  # the clone was copied before that use
    clone = key.get(sign_in_options(browser))
    assert error_of(passkey_login(browser, clone)) == (401, "passkey:sign_count_regressed")
    with services.apps["auth"].app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == user["email"]))
    [failure] = events_of(services, account.id, "auth.login_failed")
    assert failure["reason"] == "sign_count"
    assert failure["step"] == "passkey"


def test_an_authenticator_without_a_counter_is_taken(services):
    _, _, key, _ = with_passkey(services, counter_step=0)
    for _ in range(2):
        browser = services.browser()
        assert passkey_login(browser, key.get(sign_in_options(browser))).status_code == 204


def test_a_passkey_that_changes_its_backup_eligibility_is_refused(services):
    _, _, key, _ = with_passkey(services)
    key.backup_eligible = True
    browser = services.browser()
    answer = passkey_login(browser, key.get(sign_in_options(browser)))
    assert error_of(answer) == (401, "passkey:invalid_assertion")


def test_whether_a_synced_passkey_is_backed_up_now_is_kept(services):
    _, browser, key, passkey = with_passkey(services, backup_eligible=True)
    assert passkey["backup_eligible"] is True
    assert passkey["backed_up"] is False
    key.backed_up = True
    assert passkey_login(browser, key.get(sign_in_options(browser))).status_code == 204
    [listed] = browser.get("/v0/auth/passkeys").get_json()["passkeys"]
    assert listed["backed_up"] is True


def test_an_unknown_credential_is_refused(services):
    with_passkey(services)
    stranger = SoftAuthenticator(origin=ORIGIN)
    stranger.create({"rp": {"id": "localhost"}, "user": {"id": b64url(b"nobody")},
                     "challenge": b64url(b"x" * 32)})
    browser = services.browser()
    answer = passkey_login(browser, stranger.get(sign_in_options(browser)))
    assert error_of(answer) == (401, "passkey:unknown_credential")


def test_a_signature_by_another_key_is_refused(services):
    _, _, key, _ = with_passkey(services)
    impostor = SoftAuthenticator(origin=ORIGIN)
    impostor.create({"rp": {"id": "localhost"}, "user": {"id": b64url(b"x")},
                     "challenge": b64url(b"x" * 32)})
    impostor.credentials[0].id = key.credentials[0].id
    impostor.credentials[0].user_handle = key.credentials[0].user_handle
    browser = services.browser()
    answer = passkey_login(browser, impostor.get(sign_in_options(browser)))
    assert error_of(answer) == (401, "passkey:invalid_assertion")


def test_an_assertion_naming_another_user_is_refused(services):
    _, _, key, _ = with_passkey(services)
    browser = services.browser()
    assertion = key.get(sign_in_options(browser))
    assertion["response"]["userHandle"] = b64url(b"00000000-0000-0000-0000-000000000000")
    assert error_of(passkey_login(browser, assertion)) == (401, "passkey:invalid_assertion")


def _client_data(**fields) -> str:
    return b64url(json.dumps(fields).encode())


@pytest.mark.parametrize("broken", [
    {"clientDataJSON": "%%%not base64%%%"},
    {"clientDataJSON": b64url(b"\xff\xfe not json")},
    {"clientDataJSON": b64url(b"[1, 2]")},
    {"clientDataJSON": _client_data(type="webauthn.get", origin=ORIGIN)},
    {"clientDataJSON": _client_data(type="webauthn.get", challenge=b64url("é".encode()),
                                    origin=ORIGIN)},
    {"authenticatorData": b64url(b"short")},
    {"signature": "!!"},
    {"clientDataJSON": 5},
    {"clientDataJSON": b64url(b"[" * 5000)},  # deeper than Python's parser recurses
])
def test_a_malformed_assertion_is_a_clean_4xx(services, broken):
    _, _, key, _ = with_passkey(services)
    browser = services.browser()
    assertion = key.get(sign_in_options(browser))
    assertion["response"].update(broken)
    answer = passkey_login(browser, assertion)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.get_json()["code"]


@pytest.mark.parametrize("credential", [
    {}, {"id": "x"}, {"id": "x", "rawId": "x", "type": "public-key", "response": []},
    {"id": "AA", "rawId": "AA", "type": "public-key", "response": {"attestationObject": "AA"}},
    {"id": "AA", "rawId": "AA", "type": "public-key",
     "response": {"clientDataJSON": "AA", "attestationObject": b64url(b"\xa1\x00")}},
])
def test_a_malformed_registration_is_a_clean_4xx(services, credential):
    _, browser = signed_in(services, verified=True)
    browser.post("/v0/auth/passkeys/options")
    answer = browser.post("/v0/auth/passkeys", json={"credential": credential})
    assert 400 <= answer.status_code < 500, answer.text


def test_a_registration_answer_cannot_sign_in(services):
    _, browser = signed_in(services, verified=True)
    options = browser.post("/v0/auth/passkeys/options").get_json()
    key = SoftAuthenticator(origin=ORIGIN)
    key.create(options)
    # the registration's challenge, signed as an assertion
    assertion = key.get({"challenge": options["challenge"]})
    assert error_of(passkey_login(browser, assertion)) == (400, "passkey:invalid_challenge")


def test_assertions_that_fail_are_throttled_per_account(services):
    _, _, key, _ = with_passkey(services)
    browser = services.browser()
    for _ in range(6):
        answer = passkey_login(browser, key.get(sign_in_options(browser),
                                                origin="http://evil.example"))
        assert error_of(answer) == (401, "passkey:invalid_assertion")
    # the account is throttled now: even a right answer gets the same refusal
    right = passkey_login(browser, key.get(sign_in_options(browser)))
    assert error_of(right) == (401, "passkey:invalid_assertion")


def test_with_totp_on_a_verified_user_needs_no_code_and_an_unverified_one_does(services):
    _user, phone, key = with_totp_and_passkey(services)
    verified = services.browser()
    assert passkey_login(verified, key.get(sign_in_options(verified))).status_code == 204

    key.user_verified = False  # a security key touched, no PIN: one factor only
    unverified = services.browser()
    owed = passkey_login(unverified, key.get(sign_in_options(unverified)))
    assert owed.status_code == 202
    assert "session_id" not in unverified.cookies
    done = unverified.post("/v0/auth/totp/verify", json={
        "temp_token": owed.get_json()["temp_token"], "code": phone.code()})
    assert done.status_code == 204
    assert unverified.get("/v0/user/me").status_code == 200


def test_a_passkey_stands_in_for_the_code_after_a_password(services):
    user, _, key = with_totp_and_passkey(services, user_verified=False)
    other = services.browser()
    login = other.post("/v0/auth/login", json={"email": user["email"],
                                               "password": user["password"]})
    assert login.status_code == 202
    temp_token = login.get_json()["temp_token"]
    options = sign_in_options(other, temp_token=temp_token)
    assert [c["id"] for c in options["allowCredentials"]] == [b64url(key.credentials[0].id)]
    # the options alone do not spend the step, and an answer without its temp token is refused
    assertion = key.get(options)
    assert error_of(passkey_login(other, assertion)) == (400, "passkey:invalid_challenge")
    assertion = key.get(sign_in_options(other, temp_token=temp_token))
    answer = passkey_login(other, assertion, temp_token=temp_token)
    assert answer.status_code == 204, answer.text
    # the step is spent
    assert error_of(other.post("/v0/auth/login/passkey/options",
                               json={"temp_token": temp_token})) == (
        400, "totp:temp_token_invalid")


def test_a_second_step_takes_only_that_accounts_passkeys(services):
    user, _, _, _ = with_totp(services)
    _, _, someone_elses, _ = with_passkey(services)
    other = services.browser()
    temp_token = other.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).get_json()["temp_token"]
    assert error_of(other.post("/v0/auth/login/passkey/options", json={
        "temp_token": temp_token})) == (400, "passkey:none_registered")
    # with options for any passkey, a passkey of another account does not finish the step
    options = sign_in_options(other)
    answer = passkey_login(other, someone_elses.get(options), temp_token=temp_token)
    assert error_of(answer) == (400, "passkey:invalid_challenge")


def test_rename_and_remove_and_never_the_last_way_in(services):
    user, browser, _key, passkey = with_passkey(services)
    renamed = browser.request("PATCH", f"/v0/auth/passkeys/{passkey['id']}",
                              json={"name": "Phone"})
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "Phone"
    assert error_of(browser.request("PATCH", f"/v0/auth/passkeys/{passkey['id']}",
                                    json={"name": "  "}))[0] == 400
    with services.apps["auth"].app_context():  # an account that signs in with passkeys only
        account = db.session.scalar(sa.select(Account).where(Account.email == user["email"]))
        account.password_hash = None
        user_id = account.id
        db.session.commit()
    last = browser.delete(f"/v0/auth/passkeys/{passkey['id']}")
    assert error_of(last) == (400, "passkey:cannot_delete_last_credential")
    second = add_passkey(browser, SoftAuthenticator(origin=ORIGIN))
    assert second.status_code == 201
    assert second.get_json()["name"] == "Passkey 2"
    assert browser.delete(f"/v0/auth/passkeys/{passkey['id']}").status_code == 204
    assert [p["name"] for p in browser.get("/v0/auth/passkeys").get_json()["passkeys"]] == [
        "Passkey 2"]
    assert events_of(services, user_id, "auth.passkey_removed")
    age_session(services, browser, minutes=11)
    assert error_of(browser.delete(f"/v0/auth/passkeys/{second.get_json()['id']}")) == (
        403, "auth:reauthentication_required")


def test_one_user_cannot_reach_anothers_passkeys(services):
    _, _, _, theirs = with_passkey(services)
    _, mine = signed_in(services, verified=True)
    assert error_of(mine.request("PATCH", f"/v0/auth/passkeys/{theirs['id']}",
                                 json={"name": "mine now"})) == (404, "passkey:not_found")
    assert error_of(mine.delete(f"/v0/auth/passkeys/{theirs['id']}")) == (
        404, "passkey:not_found")
    assert mine.get("/v0/auth/passkeys").get_json()["passkeys"] == []


def test_passkeys_go_with_the_account(services):
    user, _, key, _ = with_passkey(services)
    with services.apps["auth"].app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == user["email"]))
        assert erase(db.session, services.apps["auth"].extensions["tessera"].sessions,
                     account.id)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Passkey).where(
            Passkey.account_id == account.id)) == 0
    browser = services.browser()
    answer = passkey_login(browser, key.get(sign_in_options(browser)))
    assert error_of(answer) == (401, "passkey:unknown_credential")


def test_an_account_keeps_twenty_passkeys_at_most(services):
    _, browser = signed_in(services, verified=True)
    key = SoftAuthenticator(origin=ORIGIN)
    for _ in range(MAX_PER_ACCOUNT):
        assert add_passkey(browser, key).status_code == 201
    assert error_of(browser.post("/v0/auth/passkeys/options")) == (409, "passkey:limit_reached")


def test_one_address_starts_a_bounded_number_of_ceremonies(services):
    browser = services.browser()
    free = PASSKEY_CEREMONIES_PER_IP.free
    answers = [browser.post("/v0/auth/login/passkey/options", json={}).status_code
               for _ in range(free + 1)]
    assert answers == [200] * free + [429]


def test_a_passkey_cannot_be_both_factors_without_verifying_the_user(services):
    _, _, key = with_totp_and_passkey(services, user_verified=False)
    other = services.browser()
    owed = passkey_login(other, key.get(sign_in_options(other)))
    assert owed.status_code == 202
    temp_token = owed.get_json()["temp_token"]
    assert error_of(other.post("/v0/auth/login/passkey/options", json={
        "temp_token": temp_token})) == (400, "passkey:first_factor_already")
    # nor with a sign-in's options and the temp token beside the answer
    answer = passkey_login(other, key.get(sign_in_options(other)), temp_token=temp_token)
    assert error_of(answer) == (400, "passkey:first_factor_already")
    assert "session_id" not in other.cookies


def test_the_second_step_is_spent_by_a_passkey_answer_that_fails(services):
    user, phone, key = with_totp_and_passkey(services)
    other = services.browser()
    temp_token = other.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).get_json()["temp_token"]
    options = sign_in_options(other, temp_token=temp_token)
    wrong = passkey_login(other, key.get(options, origin="http://evil.example"),
                          temp_token=temp_token)
    assert error_of(wrong) == (401, "passkey:invalid_assertion")
    late = other.post("/v0/auth/totp/verify", json={"temp_token": temp_token,
                                                    "code": phone.code()})
    assert error_of(late) == (400, "totp:temp_token_invalid")


def test_a_sign_in_without_a_name_needs_the_authenticators_user_handle(services):
    user, _, key = with_totp_and_passkey(services)
    other = services.browser()
    nameless = key.get(sign_in_options(other))
    del nameless["response"]["userHandle"]
    assert error_of(passkey_login(other, nameless)) == (401, "passkey:invalid_assertion")
    # after a password the account is named: an authenticator may leave the handle out
    temp_token = other.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).get_json()["temp_token"]
    named = key.get(sign_in_options(other, temp_token=temp_token))
    del named["response"]["userHandle"]
    assert passkey_login(other, named, temp_token=temp_token).status_code == 204


def test_registrations_that_cannot_be_stored_are_refused_cleanly(services):
    _, browser = signed_in(services, verified=True)
    long_id = SoftAuthenticator(origin=ORIGIN, credential_id_length=1100)
    assert error_of(add_passkey(browser, long_id)) == (400, "passkey:invalid_registration")
    options = browser.post("/v0/auth/passkeys/options").get_json()
    empty_key = SoftAuthenticator(origin=ORIGIN).create(options, cose_key=b"\x80")
    assert error_of(browser.post("/v0/auth/passkeys", json={"credential": empty_key})) == (
        400, "passkey:invalid_registration")
    options = browser.post("/v0/auth/passkeys/options").get_json()
    repeated = SoftAuthenticator(origin=ORIGIN).create(options)
    repeated["response"]["transports"] = ["usb"] * 40 + ["internal"]
    assert browser.post("/v0/auth/passkeys", json={"credential": repeated}).status_code == 201
    with services.apps["auth"].app_context():
        stored = db.session.scalar(sa.select(Passkey.transports).where(
            Passkey.credential_id == unb64url(repeated["rawId"])))
    assert stored == "internal,usb"



def test_a_second_step_from_a_process_that_predates_passkeys_takes_no_passkey(services):
    user, browser, _, _ = with_totp(services)
    assert add_passkey(browser, SoftAuthenticator(origin=ORIGIN)).status_code == 201
    with services.apps["auth"].app_context():
        account = db.session.scalar(sa.select(Account).where(Account.email == user["email"]))
        tokens = services.apps["auth"].extensions["auth"].two_factor.tokens
        old = tokens.issue(TOTP_LOGIN, {"user_id": account.id, "remember_me": False})
    answer = services.browser().post("/v0/auth/login/passkey/options", json={"temp_token": old})
    assert error_of(answer) == (400, "passkey:first_factor_already")
