"""v0 flows through the mailbox, with a real SMTP server catching the mails and the tests
following their links."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tessera_shared.outbox import read_stream
from tests.authenticator import Authenticator
from tests.e2e.conftest import eventually, new_user, unique, verify_email, visitor
from tests.e2e.test_v0_passkeys import add_passkey, authenticator_for, passkey_sign_in
from tests.mailbox import link_in

VERIFY, RESET, CHANGE = "Verify your email", "Reset your password", "Confirm your email change"


def sign_up(platform, *, verified: bool = False, **overrides):
    user = new_user(**overrides)
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    if verified:
        verify_email(platform, user["email"])
    return user


def log_in(platform, user, client=None):
    client = client or visitor()
    answer = client.post(f"{platform.url}/v0/auth/login",
                         json={"email": user["email"], "password": user["password"]})
    return client, answer.status_code


def post(platform, path, body, client=None):
    return (client or visitor()).post(f"{platform.url}/v0/auth/{path}", json=body)


def test_sign_up_mails_a_verification_link_that_works_once(platform, mailbox):
    user = sign_up(platform)
    link, token = link_in(mailbox.wait_for(user["email"], VERIFY))
    assert link == f"{platform.url}/verify-email?token={token}"
    assert len(token) == 43
    assert post(platform, "verify-email", {"token": token}).status_code == 204
    again = post(platform, "verify-email", {"token": token})
    assert again.status_code == 400
    assert again.json()["code"] == "token:invalid_verification"
    client, _ = log_in(platform, user)
    eventually(lambda: client.get(f"{platform.url}/v0/user/me").json()["is_verified"])


def test_resend_sends_a_fresh_link_until_the_address_is_verified(platform, mailbox):
    user = sign_up(platform)
    client, _ = log_in(platform, user)
    assert post(platform, "resend-verification-email", {}, client).status_code == 204
    _, token = link_in(mailbox.wait_for(user["email"], VERIFY, count=2))
    assert post(platform, "verify-email", {"token": token}).status_code == 204
    done = post(platform, "resend-verification-email", {}, client)
    assert done.status_code == 400
    assert done.json()["code"] == "email:already_verified"
    assert post(platform, "resend-verification-email", {}).status_code == 401


def test_forgot_password_answers_alike_for_known_and_unknown_addresses(platform, mailbox):
    user = sign_up(platform)
    known = post(platform, "forgot-password", {"email": user["email"]})
    stranger = f"{unique()}@example.com"
    unknown = post(platform, "forgot-password", {"email": stranger})
    assert known.status_code == unknown.status_code == 204
    assert known.content == unknown.content == b""
    mailbox.wait_for(user["email"], RESET)
    time.sleep(0.5)
    assert mailbox.received(stranger, RESET) == []


def test_a_reset_sets_the_new_password_ends_every_session_and_works_once(platform, mailbox):
    user = sign_up(platform)
    signed_in, _ = log_in(platform, user)
    post(platform, "forgot-password", {"email": user["email"]})
    _, token = link_in(mailbox.wait_for(user["email"], RESET))
    weak = post(platform, "reset-password", {"token": token, "new_password": "password1"})
    assert weak.json()["code"] == "general:validation_error"  # and the token still works:
    new_password = "a whole new passphrase"
    assert post(platform, "reset-password", {"token": token,
                                             "new_password": new_password}).status_code == 204
    assert signed_in.get(f"{platform.url}/v0/user/me").status_code == 401
    assert log_in(platform, user)[1] == 401
    assert log_in(platform, {**user, "password": new_password})[1] == 204
    reused = post(platform, "reset-password", {"token": token, "new_password": "another one!"})
    assert reused.status_code == 400
    assert reused.json()["code"] == "token:invalid_reset"


def test_changing_the_password_ends_the_other_sessions_only(platform):
    user = sign_up(platform)
    here, _ = log_in(platform, user)
    elsewhere, _ = log_in(platform, user)
    wrong = post(platform, "change-password", {"current_password": "not it",
                                               "new_password": "fresh passphrase"}, here)
    assert (wrong.status_code, wrong.json()["code"]) == (401, "user:invalid_password")
    same = post(platform, "change-password", {"current_password": user["password"],
                                              "new_password": user["password"]}, here)
    assert (same.status_code, same.json()["code"]) == (400, "general:bad_request")
    assert post(platform, "change-password", {"current_password": user["password"],
                                              "new_password": "fresh passphrase"},
                here).status_code == 204
    assert here.get(f"{platform.url}/v0/user/me").status_code == 200
    assert elsewhere.get(f"{platform.url}/v0/user/me").status_code == 401
    assert log_in(platform, {**user, "password": "fresh passphrase"})[1] == 204


def test_changing_the_email_takes_effect_when_the_new_address_confirms(platform, mailbox):
    user = sign_up(platform, verified=True)
    client, _ = log_in(platform, user)
    new_email = f"{unique()}@example.org"
    asked = post(platform, "change-email", {"password": user["password"],
                                            "new_email": new_email}, client)
    assert asked.status_code == 204
    assert client.get(f"{platform.url}/v0/user/me").json()["email"] == user["email"]
    link, token = link_in(mailbox.wait_for(new_email, CHANGE))
    assert link.startswith(f"{platform.url}/confirm-email-change?token=")
    assert post(platform, "confirm-email-change", {"token": token}).status_code == 204
    me = client.get(f"{platform.url}/v0/user/me").json()
    assert me["email"] == new_email
    eventually(lambda: client.get(f"{platform.url}/v0/user/me").json()["is_verified"])
    assert log_in(platform, {**user, "email": new_email})[1] == 204
    assert log_in(platform, user)[1] == 401
    reused = post(platform, "confirm-email-change", {"token": token})
    assert reused.json()["code"] == "token:invalid_email_change"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"password": "wrong password", "new_email": "x@example.org"}, 401, "user:invalid_password"),
    ({"password": "PASSWORD", "new_email": "SAME"}, 400, "general:bad_request"),
    ({"password": "PASSWORD", "new_email": "TAKEN"}, 409, "user:email_already_exists"),
    ({"password": "PASSWORD", "new_email": "not an email"}, 400, "general:validation_error"),
])
def test_an_email_change_is_refused_clearly(platform, body, status, code):
    other = sign_up(platform)
    user = sign_up(platform, verified=True)
    client, _ = log_in(platform, user)
    replacements = {"PASSWORD": user["password"], "SAME": user["email"].upper(),
                    "TAKEN": other["email"]}
    body = {key: replacements.get(value, value) for key, value in body.items()}
    answer = post(platform, "change-email", body, client)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_each_step_of_the_mailbox_flows_is_published_as_an_event(platform, mailbox):
    redis = platform.redis()
    last = redis.xrevrange("tessera:events", count=1)
    mark = last[0][0].decode() if last else "-"
    user = sign_up(platform)
    client, _ = log_in(platform, user)
    user_id = client.get(f"{platform.url}/v0/user/me").json()["id"]
    _, token = link_in(mailbox.wait_for(user["email"], VERIFY))
    post(platform, "verify-email", {"token": token})
    post(platform, "forgot-password", {"email": user["email"]})
    _, token = link_in(mailbox.wait_for(user["email"], RESET))
    post(platform, "reset-password", {"token": token, "new_password": "brand new passphrase"})
    client, _ = log_in(platform, {**user, "password": "brand new passphrase"})
    post(platform, "change-password", {"current_password": "brand new passphrase",
                                       "new_password": "another new passphrase"}, client)
    wanted = {"user.registered", "auth.logged_in", "user.email_verified",
              "auth.password_reset_requested", "auth.password_reset", "auth.password_changed"}

    def published() -> set[str]:
        return {event.type for event in read_stream(redis, after=mark, count=100_000)
                if event.data.get("user_id") == user_id}

    eventually(lambda: wanted <= published())


def test_nobody_can_flood_a_mailbox_with_reset_mails(platform, mailbox):
    user = sign_up(platform)
    answers = [post(platform, "forgot-password", {"email": user["email"]}) for _ in range(6)]
    assert {answer.status_code for answer in answers} == {204}  # the same answer every time
    mailbox.wait_for(user["email"], RESET, count=3)
    time.sleep(1)
    assert len(mailbox.received(user["email"], RESET)) == 3


def test_two_accounts_confirming_one_new_address_at_once_get_204_and_409(platform, mailbox):
    new_email = f"{unique()}@example.org"
    tokens = []
    for _ in range(2):
        user = sign_up(platform, verified=True)
        client, _ = log_in(platform, user)
        assert post(platform, "change-email", {"password": user["password"],
                                               "new_email": new_email}, client).status_code == 204
        tokens.append(link_in(mailbox.wait_for(new_email, CHANGE, count=len(tokens) + 1))[1])
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda token: post(platform, "confirm-email-change",
                                                   {"token": token}), tokens))
    assert sorted(answer.status_code for answer in answers) == [204, 409]
    refused = next(answer for answer in answers if answer.status_code == 409)
    assert refused.json()["code"] == "user:email_already_exists"


def reset_link_sent(platform, mailbox, user, count: int = 1) -> str:
    assert post(platform, "forgot-password", {"email": user["email"]}).status_code == 204
    return link_in(mailbox.wait_for(user["email"], RESET, count=count))[1]


def test_a_reset_retires_every_other_reset_link_sent_before_it(platform, mailbox):
    user = sign_up(platform)
    first, second = (reset_link_sent(platform, mailbox, user, n) for n in (1, 2))
    assert post(platform, "reset-password", {"token": first,
                                             "new_password": "the owner's new one"}
                ).status_code == 204
    stale = post(platform, "reset-password", {"token": second,
                                              "new_password": "the thief's new one"})
    assert (stale.status_code, stale.json()["code"]) == (400, "token:invalid_reset")
    assert log_in(platform, {**user, "password": "the owner's new one"})[1] == 204


def test_a_password_change_retires_the_reset_links_sent_before_it(platform, mailbox):
    user = sign_up(platform)
    token = reset_link_sent(platform, mailbox, user)
    client, _ = log_in(platform, user)
    assert post(platform, "change-password", {"current_password": user["password"],
                                              "new_password": "changed on purpose"},
                client).status_code == 204
    stale = post(platform, "reset-password", {"token": token, "new_password": "taken over!"})
    assert (stale.status_code, stale.json()["code"]) == (400, "token:invalid_reset")


def moved(platform, mailbox, user, client) -> str:
    """Change the signed-in user's address to a new one and confirm it; returns it."""
    new_email = f"{unique()}@example.org"
    assert post(platform, "change-email", {"password": user["password"],
                                           "new_email": new_email}, client).status_code == 204
    _, confirmation = link_in(mailbox.wait_for(new_email, CHANGE))
    assert post(platform, "confirm-email-change", {"token": confirmation}).status_code == 204
    return new_email


def test_an_email_change_retires_the_reset_links_sent_to_the_old_address(platform, mailbox):
    user = sign_up(platform, verified=True)
    token = reset_link_sent(platform, mailbox, user)
    client, _ = log_in(platform, user)
    moved(platform, mailbox, user, client)
    stale = post(platform, "reset-password", {"token": token, "new_password": "taken over!"})
    assert (stale.status_code, stale.json()["code"]) == (400, "token:invalid_reset")


REPORT = "Your Tessera email address changed"


def test_an_email_change_ends_the_other_sessions_and_tells_the_old_address(platform, mailbox):
    user = sign_up(platform, verified=True)
    asking, _ = log_in(platform, user)
    elsewhere, _ = log_in(platform, user)
    new_email = moved(platform, mailbox, user, asking)
    assert asking.get(f"{platform.url}/v0/user/me").status_code == 200
    assert elsewhere.get(f"{platform.url}/v0/user/me").status_code == 401
    told = mailbox.wait_for(user["email"], REPORT)
    assert new_email in told.get_content()
    assert link_in(told)[0].startswith(f"{platform.url}/report-email-change?token=")


def test_the_old_address_can_undo_a_change_it_did_not_make(platform, mailbox):
    user = sign_up(platform, verified=True)
    thief, _ = log_in(platform, user)
    new_email = moved(platform, mailbox, user, thief)
    _, report = link_in(mailbox.wait_for(user["email"], REPORT))
    assert post(platform, "report-email-change", {"token": report}).status_code == 204
    assert thief.get(f"{platform.url}/v0/user/me").status_code == 401
    assert log_in(platform, user)[1] == 204  # the old address signs in again
    assert log_in(platform, {**user, "email": new_email})[1] == 401
    again = post(platform, "report-email-change", {"token": report})
    assert (again.status_code, again.json()["code"]) == (
        400, "token:invalid_email_change_report")


def test_an_unverified_address_can_neither_move_nor_get_a_second_factor(platform):
    squatter = sign_up(platform)  # someone else's address, never opened
    client, _ = log_in(platform, squatter)
    moved = post(platform, "change-email", {"password": squatter["password"],
                                            "new_email": f"{unique()}@example.org"}, client)
    assert (moved.status_code, moved.json()["code"]) == (403, "email:not_verified")
    totp = client.post(f"{platform.url}/v0/auth/totp/setup")
    assert (totp.status_code, totp.json()["code"]) == (403, "email:not_verified")


def test_a_password_change_is_mailed_and_a_few_a_day_are_all_there_can_be(platform, mailbox):
    user = sign_up(platform)
    client, _ = log_in(platform, user)
    current = user["password"]
    for n in range(3):
        new = f"changed passphrase {n}"
        assert post(platform, "change-password", {"current_password": current,
                                                  "new_password": new}, client
                    ).status_code == 204
        current = new
    told = mailbox.wait_for(user["email"], "Your Tessera password changed", count=3)
    assert "Forgot password" in told.get_content()
    fourth = post(platform, "change-password", {"current_password": current,
                                                "new_password": "one change too many"}, client)
    assert (fourth.status_code, fourth.json()["code"]) == (429, "auth:too_many_password_changes")
    assert log_in(platform, {**user, "password": current})[1] == 204


def test_an_undo_link_undoes_its_own_change_only(platform, mailbox):
    user = sign_up(platform, verified=True)
    client, _ = log_in(platform, user)
    first = moved(platform, mailbox, user, client)
    _, report = link_in(mailbox.wait_for(user["email"], REPORT))
    moved(platform, mailbox, {**user, "email": first}, client)  # the owner moves on again
    stale = post(platform, "report-email-change", {"token": report})
    assert (stale.status_code, stale.json()["code"]) == (400, "token:invalid_email_change_report")


def test_taking_the_account_back_removes_the_second_factor_the_taker_added(platform,
                                                                          mailbox):
    user = sign_up(platform, verified=True)
    thief, _ = log_in(platform, user)
    taken = moved(platform, mailbox, user, thief)
    setup = thief.post(f"{platform.url}/v0/auth/totp/setup").json()
    thiefs_phone = Authenticator(setup["qr_code_uri"])
    assert thief.post(f"{platform.url}/v0/auth/totp/enable",
                      json={"code": thiefs_phone.code()}).status_code == 200
    _, report = link_in(mailbox.wait_for(user["email"], REPORT))
    assert post(platform, "report-email-change", {"token": report}).status_code == 204
    assert log_in(platform, user)[1] == 204  # no second step asking for the thief's code
    assert log_in(platform, {**user, "email": taken})[1] == 401


def test_a_guesser_cannot_lock_the_owner_out_of_confirming_their_password(platform):
    user = sign_up(platform)
    owner = visitor()
    owner.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")  # its browser id
    log_in(platform, user, owner)
    for n in range(12):  # from elsewhere, at the account
        log_in(platform, {**user, "password": f"wrong guess {n}"})
    owner.headers["X-Forwarded-For"] = visitor().headers["X-Forwarded-For"]  # on the move
    assert post(platform, "change-password", {"current_password": user["password"],
                                              "new_password": "still the owner here"},
                owner).status_code == 204


def test_taking_the_account_back_removes_the_passkeys_the_taker_added(platform, mailbox):
    user = sign_up(platform, verified=True)
    owner, _ = log_in(platform, user)
    owners_key, thiefs_key = authenticator_for(platform), authenticator_for(platform)
    add_passkey(platform, owner, owners_key)
    thief, _ = log_in(platform, user)
    moved(platform, mailbox, user, thief)
    add_passkey(platform, thief, thiefs_key)
    _, report = link_in(mailbox.wait_for(user["email"], REPORT))
    assert post(platform, "report-email-change", {"token": report}).status_code == 204
    assert passkey_sign_in(platform, visitor(), owners_key).status_code == 204
    refused = passkey_sign_in(platform, visitor(), thiefs_key)
    assert (refused.status_code, refused.json()["code"]) == (401, "passkey:unknown_credential")

