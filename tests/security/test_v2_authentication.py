"""ASVS V2, authentication: guessing every kind of secret, through two gateway processes at
once, is throttled per account and per address; nothing tells a known account from an
unknown one; and nothing that proves who you are works twice."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle

import pytest
import requests

from tessera_shared.outbox import STREAM, read_stream
from tessera_shared.throttle import PASSWORD, SSID_PER_IP, TOKEN_PER_IP
from tests.e2e.conftest import RunningPlatform, eventually, new_user, unique, visitor
from tests.e2e.test_users_api import (
    RESET_SUBJECT,
    basic,
    message_of,
    registered,
    ssid_of,
    userhash,
)
from tests.e2e.test_v0_oauth import Browser, person
from tests.e2e.test_v0_totp import error_of, password_step, with_totp
from tests.mailbox import link_in
from tests.oauth_provider import Provider
from tests.tensamin import Iota

ACCOUNT_FREE = PASSWORD.per_account.free  # the same for every kind of secret
ADDRESS_FREE = PASSWORD.per_ip.free


class Secret:
    """Some account's secret of one kind, as a guesser meets it: `tried` sends it (the right
    one, or a wrong one), `accepted` says whether that answer let the sender in."""

    free_per_address = ADDRESS_FREE

    def prepare(self) -> None:
        """Ready the right secret now, so that sending it later takes no time."""

    def tried(self, client: requests.Session, gateway: str, *,
              right: bool) -> requests.Response:
        raise NotImplementedError

    def accepted(self, answer: requests.Response) -> bool:
        return answer.status_code == 204


class Password(Secret):
    """A v0 account's password, at the login."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.user = new_user()
        made = visitor().post(f"{platform.url}/v0/users", json=self.user, timeout=10)
        assert made.status_code == 201, made.text

    def tried(self, client, gateway, *, right):
        password = self.user["password"] if right else f"not it {secrets.token_hex(4)}"
        return client.post(f"{gateway}/v0/auth/login", timeout=10, json={
            "email": self.user["email"], "password": password})


class TotpCode(Secret):
    """The code from a v0 user's authenticator app, at the login's second step (the password
    step is always right: a code is only ever asked of someone who knows the password)."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.user, _client, self.phone, self.backup_codes, _ = with_totp(platform)
        self.ready: str | None = None

    def prepare(self) -> None:
        # The phone may wait for the clock's next step: not between a guess and the check.
        self.ready = self.phone.code()

    def right_code(self) -> str:
        code, self.ready = self.ready or self.phone.code(), None
        return code

    def second_step(self, client: requests.Session, gateway: str,
                    code: str) -> requests.Response:
        step = client.post(f"{gateway}/v0/auth/login", timeout=10, json={
            "email": self.user["email"], "password": self.user["password"]})
        assert step.status_code == 202, step.text
        return client.post(f"{gateway}/v0/auth/totp/verify", timeout=10, json={
            "temp_token": step.json()["temp_token"], "code": code})

    def tried(self, client, gateway, *, right):
        return self.second_step(client, gateway,
                                self.right_code() if right else self.phone.wrong_code())


class BackupCode(TotpCode):
    """One of a v0 user's backup codes, in place of the app's code."""

    def tried(self, client, gateway, *, right):
        code = self.backup_codes.pop() if right else secrets.token_hex(4).upper()
        return self.second_step(client, gateway, code)


class MailedCode(Secret):
    """The six-digit code the users API mails for a password reset (its `otp`)."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.user = registered(platform)
        asked = visitor().get(f"{platform.url}/api/users/requestotp", timeout=10,
                              params={"username": self.user["username"]})
        self.request = asked.json()["data"]["message"]
        assert platform.mailbox is not None
        mail = platform.mailbox.wait_for(self.user["email"], RESET_SUBJECT)
        self.code = RESET_SUBJECT.fullmatch(mail["Subject"])[1]

    def tried(self, client, gateway, *, right):
        # Codes run from 100000 to 999999, so 000000 is always wrong.
        return client.post(f"{gateway}/api/users/modifypassword", timeout=10, json={
            "userhash": self.request["userhash"], "reqid": self.request["reqid"],
            "otp": self.code if right else "000000", "password": "a brand new passphrase"})

    def accepted(self, answer):
        return message_of(answer)[0] == 200


class PrivateKeyHash(Secret):
    """A registry user's private-key hash, which their Iota shows to change their profile."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.user = Iota(platform.url, visitor()).create_user(unique())

    def tried(self, client, gateway, *, right):
        key_hash = self.user.private_key_hash if right else os.urandom(32).hex()
        return client.post(f"{gateway}/api/change/{self.user.user_id}", timeout=10,
                           json={"private_key_hash": key_hash, "display": "x"})

    def accepted(self, answer):
        return answer.json()["type"] == "success"


class ResetToken(Secret):
    """The token in a v0 password-reset link."""

    free_per_address = TOKEN_PER_IP.free

    def __init__(self, platform: RunningPlatform) -> None:
        user = new_user()
        assert visitor().post(f"{platform.url}/v0/users", json=user,
                              timeout=10).status_code == 201
        visitor().post(f"{platform.url}/v0/auth/forgot-password", timeout=10,
                       json={"email": user["email"]})
        assert platform.mailbox is not None
        _, self.token = link_in(platform.mailbox.wait_for(user["email"], "Reset your password"))

    def tried(self, client, gateway, *, right):
        token = self.token if right else secrets.token_urlsafe(32)
        return client.post(f"{gateway}/v0/auth/reset-password", timeout=10, json={
            "token": token, "new_password": "a brand new passphrase"})


class TempToken(TotpCode):
    """The token that carries a v0 login from its password step to its code step."""

    free_per_address = TOKEN_PER_IP.free

    def __init__(self, platform: RunningPlatform) -> None:
        super().__init__(platform)
        _, self.token = password_step(platform, self.user)

    def tried(self, client, gateway, *, right):
        token, code = ((self.token, self.right_code()) if right
                       else (secrets.token_urlsafe(32), self.phone.wrong_code()))
        return client.post(f"{gateway}/v0/auth/totp/verify", timeout=10, json={
            "temp_token": token, "code": code})


class OAuthState(Secret):
    """The state a social sign-in brings back from Google (the browser it started in sends
    it: a state is bound to its browser's cookie)."""

    free_per_address = TOKEN_PER_IP.free

    def __init__(self, platform: RunningPlatform, google: Provider) -> None:
        self.browser = Browser(platform)
        self.answer = self.browser.round_trip(google, person(google))

    def tried(self, client, gateway, *, right):
        state = self.answer["state"] if right else secrets.token_urlsafe(32)
        return client.post(f"{gateway}/v0/auth/oauth/google/login", timeout=10,
                           cookies=self.browser.http.cookies,
                           json={**self.answer, "state": state})

    def accepted(self, answer):
        return answer.status_code == 200


class Ssid(Secret):
    """A users-API session id, sent with the userhash as Basic credentials."""

    free_per_address = SSID_PER_IP.free

    def __init__(self, platform: RunningPlatform) -> None:
        user = registered(platform)
        self.name_hash = userhash(user["username"])
        self.ssid = ssid_of(platform, user)

    def tried(self, client, gateway, *, right):
        ssid = self.ssid if right else secrets.token_hex(64)
        return client.get(f"{gateway}/api/users/info", timeout=10,
                          headers=basic(self.name_hash, ssid))

    def accepted(self, answer):
        return answer.status_code == 200


ACCOUNT_SECRETS = [Password, TotpCode, BackupCode, MailedCode, PrivateKeyHash]
TOKENS = [ResetToken, TempToken, OAuthState, Ssid]


@pytest.fixture
def make(platform: RunningPlatform, google: Provider) -> Callable[[type[Secret]], Secret]:
    """Makes a fresh secret of a kind, on the attacked platform."""
    def made(kind: type[Secret]) -> Secret:
        return kind(platform, google) if kind is OAuthState else kind(platform)
    return made


def answer_of(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.text


def wrong(secret: Secret, client: requests.Session, gateway: str) -> tuple[int, str]:
    """A wrong guess, refused; its answer."""
    answer = secret.tried(client, gateway, right=False)
    assert not secret.accepted(answer), answer.text
    return answer_of(answer)


@pytest.mark.asvs("V2.2.1")
@pytest.mark.parametrize("kind", ACCOUNT_SECRETS, ids=lambda kind: kind.__name__)
def test_v2_2_1_guesses_at_one_account_from_many_addresses_and_gateways_hold_it(
        make, gateways, kind):
    secret = make(kind)
    secret.prepare()
    answers = [wrong(secret, visitor(), gateway)
               for _, gateway in zip(range(ACCOUNT_FREE), cycle(gateways), strict=False)]
    # Now even the right secret, from an address of its own, must wait: it looks as wrong.
    held = secret.tried(visitor(), gateways[1], right=True)
    assert answer_of(held) == answers[-1]


@pytest.mark.asvs("V2.2.1")
@pytest.mark.parametrize("kind", ACCOUNT_SECRETS, ids=lambda kind: kind.__name__)
def test_v2_2_1_one_address_guessing_across_accounts_and_gateways_is_held(make, gateways,
                                                                        kind):
    guesser = visitor()
    targets = [make(kind) for _ in range(ADDRESS_FREE // ACCOUNT_FREE)]
    untouched = make(kind)
    untouched.prepare()
    tries = [target for target in targets for _ in range(ACCOUNT_FREE)]
    answers = [wrong(target, guesser, gateway)
               for target, gateway in zip(tries, cycle(gateways), strict=False)]
    held = untouched.tried(guesser, gateways[0], right=True)  # the address waits...
    assert answer_of(held) == answers[-1]
    assert untouched.accepted(untouched.tried(visitor(), gateways[1], right=True))  # not it


@pytest.mark.asvs("V2.2.1")
@pytest.mark.parametrize("kind", TOKENS, ids=lambda kind: kind.__name__)
def test_v2_2_1_one_address_trying_tokens_through_two_gateways_is_held(make, gateways, kind):
    guesser = visitor()
    real = make(kind)
    real.prepare()
    answers = [wrong(real, guesser, gateway) for _, gateway in
               zip(range(real.free_per_address), cycle(gateways), strict=False)]
    held = real.tried(guesser, gateways[0], right=True)  # refused, and not spent:
    assert answer_of(held) == answers[-1]
    assert real.accepted(real.tried(visitor(), gateways[1], right=True))  # the owner's is in


# -- enumeration ---------------------------------------------------------------------------

@pytest.mark.asvs("V7.4.1")
def test_v7_4_1_sign_in_answers_alike_for_known_and_unknown_accounts_in_every_family(
        platform):
    known = registered(platform)  # one account for every family
    stranger = unique()
    url = platform.url

    def v0(name):
        return visitor().post(f"{url}/v0/auth/login", timeout=10, json={
            "email": f"{name}@example.com", "password": "not the password"})

    def users_api(name):
        return visitor().post(f"{url}/api/login", timeout=10, json={
            "username": name, "password": "not the password"})

    def user_api(name):
        return visitor().post(f"{url}/user/auth", timeout=10, json={
            "username": name, "password": "not the password"})

    for family in (v0, users_api, user_api):
        assert answer_of(family(known["username"])) == answer_of(family(stranger)), family


@pytest.mark.asvs("V7.4.1")
def test_v7_4_1_asking_for_a_reset_answers_alike_for_known_and_unknown_addresses(platform):
    """v0 and the user API; the users API's document answers an unknown username with
    ERROR_INVALID_USERNAME (and a username is public there), so it keeps that answer."""
    known = registered(platform)["email"]
    stranger = f"{unique()}@example.com"
    for path in ("/v0/auth/forgot-password", "/user/password-reset-token"):
        answers = [answer_of(visitor().post(f"{platform.url}{path}", json={"email": email},
                                            timeout=10)) for email in (known, stranger)]
        assert answers[0] == answers[1], path
        assert answers[0][0] < 300, answers


# -- single use ----------------------------------------------------------------------------

@pytest.mark.asvs("V2.8.4")
def test_v2_8_4_a_totp_code_works_once_whichever_gateway_it_is_sent_to(platform, gateways):
    secret = TotpCode(platform)
    code = secret.phone.code()
    assert secret.second_step(visitor(), gateways[0], code).status_code == 204
    replayed = secret.second_step(visitor(), gateways[1], code)
    assert error_of(replayed) == (400, "totp:invalid_code")


@pytest.mark.asvs("V2.6.1")
def test_v2_6_1_a_backup_code_works_once(platform, gateways):
    secret = BackupCode(platform)
    code = secret.backup_codes[0]
    owner = visitor()
    assert secret.second_step(owner, gateways[0], code).status_code == 204
    replayed = secret.second_step(visitor(), gateways[1], code)
    assert error_of(replayed) == (400, "totp:invalid_code")
    assert owner.get(f"{gateways[0]}/v0/auth/totp/status",
                     timeout=10).json()["backup_codes_remaining"] == 9


@pytest.mark.asvs("V2.7.3")
@pytest.mark.parametrize(("kind", "refusal"), [
    (ResetToken, (400, "token:invalid_reset")),
    (MailedCode, (401, "ERROR_INVALID_OTP")),
    # Not out-of-band codes, but held to the same rule: the login's step and the OAuth state.
    (TempToken, (400, "totp:temp_token_invalid")),
    (OAuthState, (400, "oauth:invalid_state")),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_v2_7_3_a_mailed_or_handed_over_secret_works_once(make, gateways, kind, refusal):
    secret = make(kind)
    assert secret.accepted(secret.tried(visitor(), gateways[0], right=True))
    replayed = secret.tried(visitor(), gateways[1], right=True)
    assert not secret.accepted(replayed)
    body = replayed.json()
    assert (replayed.status_code, body.get("code") or body["data"]["message"]) == refusal


@pytest.mark.asvs("V2.7.3")
def test_v2_7_3_an_oauth_state_works_only_in_the_browser_it_started_in(platform, google):
    secret = OAuthState(platform, google)
    thief = Browser(platform)
    thief.http.get(thief.url("/v0/auth/oauth/google/authorize"), timeout=10)
    stolen = thief.http.post(thief.url("/v0/auth/oauth/google/login"), json=secret.answer,
                             timeout=10)
    assert error_of(stolen) == (400, "oauth:invalid_state")
    # Shown once, even by the wrong browser, a state is spent: nobody finishes with it.
    assert error_of(secret.tried(visitor(), platform.url, right=True)) == error_of(stolen)


# -- how throttling answers --------------------------------------------------------------

@pytest.mark.asvs("V2.2.1")
def test_v2_2_1_guessed_passwords_are_throttled_and_then_the_right_one_looks_wrong(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    guesser = visitor()
    login = f"{platform.url}/v0/auth/login"
    guesses = [guesser.post(login, json={"email": user["email"], "password": f"guess {n}"})
               for n in range(5)]
    assert {answer.status_code for answer in guesses} == {401}
    right = {"email": user["email"], "password": user["password"]}
    throttled = guesser.post(login, json=right)
    assert throttled.status_code == 401
    assert throttled.json() == guesses[0].json()
    # The account is throttled from every address, not only the guesser's.
    assert visitor().post(login, json=right).status_code == 401


@pytest.mark.asvs("V2.2.1")
def test_v2_2_1_a_guesser_cannot_lock_the_owner_out_of_a_browser_they_signed_in_from(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    login = f"{platform.url}/v0/auth/login"
    right = {"email": user["email"], "password": user["password"]}
    owner = visitor()
    owner.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")  # gets its id
    assert owner.post(login, json=right).status_code == 204
    guesser = visitor()
    for n in range(20):  # far past the account's free failures, and on while refused
        guesser.post(login, json={"email": user["email"], "password": f"guess {n}"})
    assert visitor().post(login, json=right).status_code == 401  # a new browser waits
    owner.headers["X-Forwarded-For"] = visitor().headers["X-Forwarded-For"]  # on the move
    assert owner.post(login, json=right).status_code == 204


@pytest.mark.asvs("V2.2.1")
def test_v2_2_1_parallel_guesses_get_no_more_checks_than_sequential_ones(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    login = f"{platform.url}/v0/auth/login"
    guesser, tag = visitor(), f"burst-{unique()}"
    guesser.headers["User-Agent"] = tag
    redis = platform.redis()
    mark = redis.xrevrange(STREAM, count=1)[0][0].decode()

    def guess(n: int) -> int:
        return guesser.post(login, json={"email": user["email"], "password": f"guess {n}"},
                            timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(guess, range(16))) == {401}

    def failures() -> list[dict]:  # every failed login is an event, saying if it was checked
        return [event.data for event in read_stream(redis, after=mark, count=100_000)
                if event.type == "auth.login_failed" and event.data.get("user_agent") == tag]

    eventually(lambda: len(failures()) == 16)
    assert sum(not failure["throttled"] for failure in failures()) == 5


@pytest.mark.asvs("V7.4.1")
def test_v7_4_1_throttling_an_unknown_email_looks_the_same_as_a_known_one(platform):
    login = f"{platform.url}/v0/auth/login"
    known = new_user()
    assert visitor().post(f"{platform.url}/v0/users", json=known, timeout=10).status_code == 201

    def guessed(email: str) -> list[tuple[int, str]]:  # past the free tries, into the wait
        guesser = visitor()
        return [answer_of(guesser.post(login, json={"email": email, "password": "guess"},
                                       timeout=10)) for _ in range(ACCOUNT_FREE + 2)]

    assert guessed(f"{unique()}@example.com") == guessed(known["email"])

