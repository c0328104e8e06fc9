"""Social sign-in in process: every v0 OAuth view against the Google-like and GitHub-like
providers on loopback (tests/oauth_provider.py), whose code, tokens, ID tokens and API the
auth app's authlib clients really use."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import sqlalchemy as sa
from flask import Response
from joserfc.jwk import RSAKey

from auth_service.models import Account, Connection
from auth_service.models import db as auth_db
from auth_service.tokens import OAUTH_PENDING
from tessera_shared.ids import digest
from tessera_shared.outbox import outbox
from tests.integration.test_passkeys import add_passkey
from tests.integration.test_views_reauthentication import age_session, signed_in, with_totp
from tests.mailbox import LINK
from tests.oauth_provider import KEY
from tests.passkey import SoftAuthenticator
from user_service.models import Profile
from user_service.models import db as user_db

PUBLIC_URL = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def services_env(google, github) -> dict[str, str]:
    for provider in (google, github):
        provider.accept_redirects_to(PUBLIC_URL)
    return {**google.env(), **github.env()}


def error_of(answer) -> tuple[int, str]:
    return answer.status_code, answer.get_json()["code"]


def person(provider, **fields):
    """A new account at the provider."""
    key = f"p{uuid.uuid4().hex[:10]}"
    fields.setdefault("email", f"{key}@mail.example")
    fields.setdefault("name", "Ada Provider")
    fields.setdefault("login", key)
    return provider.person(key, **fields)


def round_trip(browser, provider, who, *, flow: str = "login"):
    """Start an attempt in `browser`, consent at the provider as `who`: the code and state
    the provider sends the browser back with."""
    started = browser.get(f"/v0/auth/oauth/{provider.face}/authorize?flow={flow}")
    assert started.status_code == 200, started.text
    return provider.consent(started.get_json()["auth_url"], who)


def oauth_login(browser, provider, who):
    code, state = round_trip(browser, provider, who)
    return browser.post(f"/v0/auth/oauth/{provider.face}/login",
                        json={"code": code, "state": state})


def handle() -> str:
    return f"h{uuid.uuid4().hex[:10]}"


def sign_up(services, provider, who=None):
    """A new account made through the provider; its browser is signed in."""
    who = who or person(provider)
    browser = services.browser()
    pending = oauth_login(browser, provider, who)
    assert pending.status_code == 200, pending.text
    chosen = handle()
    done = browser.post("/v0/auth/complete-signup",
                        json={"pending_token": pending.get_json()["pending_token"],
                              "handle": chosen})
    assert done.status_code == 204, done.text
    return who, browser, chosen


def account_of(services, email: str) -> Account | None:
    with services.apps["auth"].app_context():
        return auth_db.session.scalar(sa.select(Account).where(Account.email == email))


def connections_of(services, user_id: str) -> list[tuple[str, str]]:
    with services.apps["auth"].app_context():
        return [(c.provider, c.subject) for c in auth_db.session.scalars(
            sa.select(Connection).where(Connection.account_id == user_id))]


def outbox_types(services) -> list[str]:
    with services.apps["auth"].app_context():
        return list(auth_db.session.scalars(sa.select(outbox.c.type)))


def test_a_new_google_identity_signs_up_with_a_handle_of_its_choice(services, google):
    who = person(google, name="Grace Hopper")
    browser = services.browser()
    pending = oauth_login(browser, google, who)
    assert pending.status_code == 200, pending.text
    body = pending.get_json()
    assert body["email"] == who.email
    assert body["display_name"] == "Grace Hopper"
    assert "session_id" not in browser.cookies
    assert account_of(services, who.email) is None  # nothing exists before a handle is chosen

    chosen = handle()
    done = browser.post("/v0/auth/complete-signup",
                        json={"pending_token": body["pending_token"], "handle": chosen})
    assert done.status_code == 204, done.text
    assert "Max-Age" in done.headers["Set-Cookie"]  # remembered, as the original
    me = browser.get("/v0/user/me").get_json()
    assert me["handle"] == chosen
    assert me["display_name"] == "Grace Hopper"
    assert me["is_verified"] is True  # the provider proved the address
    account = account_of(services, who.email)
    assert account.password_hash is None
    assert account.verified_at is not None
    assert connections_of(services, account.id) == [("google", who.id)]
    listed = browser.get("/v0/auth/oauth/connections").get_json()["connections"]
    assert [item["provider"] for item in listed] == ["Google"]
    assert listed[0]["created_at"].endswith("Z")
    with services.apps["user"].app_context():
        profile = user_db.session.get(Profile, account.id)
        assert profile.profile_image  # the provider's picture, through the image pipeline
    assert {"user.registered", "auth.oauth_linked", "auth.logged_in"} <= set(
        outbox_types(services))


def test_a_linked_identity_signs_in_again_and_rotates_the_session(services, google):
    who, browser, chosen = sign_up(services, google)
    old = browser.cookies["session_id"]
    again = oauth_login(browser, google, who)
    assert again.status_code == 204, again.text
    assert browser.cookies["session_id"] != old
    assert browser.get("/v0/user/me").get_json()["handle"] == chosen
    stale = services.browser()
    stale.cookies["session_id"] = old
    assert stale.get("/v0/user/me").status_code == 401

    elsewhere = services.browser()
    assert oauth_login(elsewhere, google, who).status_code == 204
    assert elsewhere.get("/v0/user/me").get_json()["handle"] == chosen


def test_github_uses_the_verified_primary_email_and_the_login_as_a_name(services, github):
    key = f"p{uuid.uuid4().hex[:10]}"
    who = person(github, email=None, name=None, login=key, emails=[
        {"email": f"old-{key}@mail.example", "primary": False, "verified": True},
        {"email": f"{key}@mail.example", "primary": True, "verified": True}])
    browser = services.browser()
    pending = oauth_login(browser, github, who)
    assert pending.status_code == 200, pending.text
    assert pending.get_json()["email"] == f"{key}@mail.example"
    assert pending.get_json()["display_name"] == key


def test_github_without_a_verified_primary_email_is_refused(services, github):
    who = person(github, email=None, emails=[
        {"email": "unproven@mail.example", "primary": True, "verified": False}])
    answer = oauth_login(services.browser(), github, who)
    assert error_of(answer) == (400, "oauth:email_not_verified")


def test_a_github_profile_address_counts_only_if_github_verified_it(services, github):
    key = f"p{uuid.uuid4().hex[:10]}"
    squatter = person(github, email=f"victim-{key}@mail.example", emails=[
        {"email": f"victim-{key}@mail.example", "primary": True, "verified": False}])
    assert error_of(oauth_login(services.browser(), github, squatter)) == (
        400, "oauth:email_not_verified")
    mixed = person(github, email=f"public-{key}@mail.example", emails=[
        {"email": f"public-{key}@mail.example", "primary": False, "verified": False},
        {"email": f"own-{key}@mail.example", "primary": True, "verified": True}])
    answer = oauth_login(services.browser(), github, mixed)
    assert answer.status_code == 200, answer.text
    assert answer.get_json()["email"] == f"own-{key}@mail.example"


def reply(body, status: int = 200, content_type: str = "application/json") -> Response:
    return Response(body if isinstance(body, str) else json.dumps(body), status=status,
                    content_type=content_type)


@pytest.mark.parametrize(("face", "path", "answer", "expected"), [
    ("google", "/token", reply({}), (400, "oauth:token_exchange_failed")),
    ("google", "/token", reply({"access_token": "a", "token_type": "Bearer",
                                "id_token": ["not", "a", "token"]}),
     (400, "oauth:user_info_fetch_failed")),
    ("google", "/token", reply("<html>oops</html>", content_type="text/html"),
     (502, "oauth:provider_unavailable")),
    ("github", "/login/oauth/access_token", reply({"token_type": "bearer"}),
     (400, "oauth:token_exchange_failed")),
    ("github", "/login/oauth/access_token", reply({"error": "bad_verification_code"}, 400),
     (400, "oauth:token_exchange_failed")),
    ("github", "/api/user", reply({"id": None, "login": "someone", "email": None}),
     (400, "oauth:user_info_fetch_failed")),
    ("github", "/api/user", reply(["not", "an", "object"]), (400, "oauth:user_info_fetch_failed")),
    ("github", "/api/user", reply("<html>maintenance</html>", content_type="text/html"),
     (502, "oauth:provider_unavailable")),
    ("github", "/api/user", reply({"message": "Bad credentials"}, 401),
     (400, "oauth:user_info_fetch_failed")),
    ("github", "/api/user/emails", reply([{"email": 5, "primary": True, "verified": True}]),
     (400, "oauth:email_not_verified")),
    ("github", "/api/user/emails", reply([{"email": "no-at-sign", "primary": True,
                                           "verified": True}]),
     (400, "oauth:user_info_fetch_failed")),
    ("github", "/api/user/emails", reply([{"email": "x" * 250 + "@a.example",
                                           "primary": True, "verified": True}]),
     (400, "oauth:user_info_fetch_failed")),
    ("github", "/api/user/emails", reply({"message": "Not Found"}, 404),
     (400, "oauth:user_info_fetch_failed")),
])
def test_a_misbehaving_provider_gets_a_clear_error_never_a_500(services, google, github, face,
                                                               path, answer, expected):
    provider = {"google": google, "github": github}[face]
    browser = services.browser()
    code, state = round_trip(browser, provider, person(provider))
    before = services.stored()
    provider.replies[path] = answer
    try:
        refused = browser.post(f"/v0/auth/oauth/{face}/login",
                               json={"code": code, "state": state})
    finally:
        provider.replies.clear()
    assert error_of(refused) == expected
    assert services.stored() == before


def test_a_jwks_that_cannot_be_read_is_a_refused_id_token(services, google):
    """A token signed with a key the platform has not seen makes it fetch the JWKS again."""
    browser = services.browser()
    code, state = round_trip(browser, google, person(google))
    google.signing_key = RSAKey.generate_key(2048, parameters={"kid": "rotated", "alg": "RS256"})
    google.replies["/jwks"] = reply({})
    try:
        refused = browser.post("/v0/auth/oauth/google/login", json={"code": code, "state": state})
    finally:
        google.signing_key = KEY
        google.replies.clear()
    assert error_of(refused) == (400, "oauth:user_info_fetch_failed")


def test_names_from_a_provider_are_cleaned_or_replaced(services, github):
    odd = person(github, name=None, login=None)
    github.replies["/api/user"] = reply({"id": int(odd.id), "login": 5, "name": ["x"],
                                         "email": odd.email})
    try:
        answer = oauth_login(services.browser(), github, odd)
    finally:
        github.replies.clear()
    assert answer.status_code == 200, answer.text
    assert answer.get_json()["display_name"] == "New user"

    long_name = person(github, name="A\u0000very\tlong name that goes on and on")
    assert oauth_login(services.browser(), github, long_name).get_json()[
        "display_name"] == "Averylong name that"

    short = person(github, name="Al")
    _, browser, chosen = sign_up(services, github, short)
    assert browser.get("/v0/user/me").get_json()["display_name"] == chosen  # v0 needs 3


def test_an_unverified_google_email_creates_nothing(services, google):
    who = person(google, email_verified=False)
    before = services.stored()
    answer = oauth_login(services.browser(), google, who)
    assert error_of(answer) == (400, "oauth:email_not_verified")
    assert services.stored() == before


def test_an_email_of_a_local_account_is_never_taken_over(services, google):
    user, _ = signed_in(services)
    who = person(google, email=user["email"].upper())
    answer = oauth_login(services.browser(), google, who)
    assert error_of(answer) == (409, "oauth:email_already_exists")
    assert connections_of(services, account_of(services, user["email"]).id) == []


def test_a_state_works_once_in_its_own_browser_for_its_own_provider_and_purpose(
        services, google, github):
    who = person(google)
    browser = services.browser()
    code, state = round_trip(browser, google, who)
    other_browser = services.browser()
    other_browser.get("/v0/auth/oauth/google/authorize")  # it has an anonymous id of its own
    stolen = other_browser.post("/v0/auth/oauth/google/login",
                                json={"code": code, "state": state})
    assert error_of(stolen) == (400, "oauth:invalid_state")

    code, state = round_trip(browser, google, who)
    assert browser.post("/v0/auth/oauth/google/login",
                        json={"code": code, "state": state}).status_code == 200
    replayed = browser.post("/v0/auth/oauth/google/login", json={"code": code, "state": state})
    assert error_of(replayed) == (400, "oauth:invalid_state")

    code, state = round_trip(browser, google, who)
    crossed = browser.post("/v0/auth/oauth/github/login", json={"code": code, "state": state})
    assert error_of(crossed) == (400, "oauth:invalid_state")

    _, member = signed_in(services)
    code, state = round_trip(member, google, who, flow="link")
    wrong_purpose = member.post("/v0/auth/oauth/google/login",
                                json={"code": code, "state": state})
    assert error_of(wrong_purpose) == (400, "oauth:invalid_state")

    unknown = browser.post("/v0/auth/oauth/google/login", json={"code": "x", "state": "y"})
    assert error_of(unknown) == (400, "oauth:invalid_state")


def test_a_code_the_provider_does_not_know_fails_the_exchange(services, google):
    browser = services.browser()
    _, state = round_trip(browser, google, person(google))
    answer = browser.post("/v0/auth/oauth/google/login",
                          json={"code": "forged-code", "state": state})
    assert error_of(answer) == (400, "oauth:token_exchange_failed")


def test_tessera_proves_pkce_and_the_provider_checks_it(services, google):
    browser = services.browser()
    started = browser.get("/v0/auth/oauth/google/authorize").get_json()["auth_url"]
    assert "code_challenge_method=S256" in started
    assert "code_challenge=" in started
    code, state = round_trip(browser, google, person(google))
    assert browser.post("/v0/auth/oauth/google/login",
                        json={"code": code, "state": state}).status_code == 200
    assert google.token_requests[-1]["code_verifier"]

    def exchange(**verifier: str) -> requests.Response:
        code, _ = round_trip(services.browser(), google, person(google))
        env = google.env()
        return requests.post(f"{google.url}/token", timeout=10, data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": f"{PUBLIC_URL}/oauth/google/callback", **verifier},
            auth=(env["OAUTH_GOOGLE_CLIENT_ID"], env["OAUTH_GOOGLE_CLIENT_SECRET"]))

    without = exchange()
    assert without.status_code == 400
    assert "code_verifier" in without.text
    wrong = exchange(code_verifier="x" * 50)
    assert wrong.status_code == 400
    assert "invalid_grant" in wrong.text


@pytest.mark.parametrize("tampered", [
    {"signing_key": RSAKey.generate_key(2048, parameters={"kid": KEY.kid, "alg": "RS256"})},
    {"id_token_claims": {"aud": ["another-client"]}},
    {"id_token_claims": {"iss": "https://impostor.example"}},
    {"id_token_claims": {"exp": 1_000_000_000}},
])
def test_an_id_token_that_does_not_verify_is_refused(services, google, tampered):
    browser = services.browser()
    answer = round_trip(browser, google, person(google))
    before = services.stored()
    for name, value in tampered.items():
        setattr(google, name, value)
    try:
        refused = browser.post("/v0/auth/oauth/google/login",
                               json={"code": answer[0], "state": answer[1]})
    finally:
        google.signing_key, google.id_token_claims = KEY, {}
    assert error_of(refused) == (400, "oauth:user_info_fetch_failed")
    assert services.stored() == before


def test_complete_signup_belongs_to_its_browser_and_is_spent_only_by_success(
        services, google):
    taken_user, _ = signed_in(services)
    browser = services.browser()
    pending = oauth_login(browser, google, person(google)).get_json()["pending_token"]

    elsewhere = services.browser()
    elsewhere.get("/v0/auth/oauth/google/authorize")
    assert error_of(elsewhere.post("/v0/auth/complete-signup", json={
        "pending_token": pending, "handle": handle()})) == (401, "user:invalid_token")
    assert error_of(browser.post("/v0/auth/complete-signup", json={
        "pending_token": "no-such-token", "handle": handle()})) == (401, "user:token_expired")
    before = services.stored()
    assert error_of(browser.post("/v0/auth/complete-signup", json={
        "pending_token": pending, "handle": taken_user["handle"]})) == (
        409, "user:handle_already_exists")
    assert services.stored() == before  # nothing half-made

    assert browser.post("/v0/auth/complete-signup", json={
        "pending_token": pending, "handle": handle()}).status_code == 204
    assert error_of(browser.post("/v0/auth/complete-signup", json={
        "pending_token": pending, "handle": handle()})) == (401, "user:token_expired")


def test_one_completion_at_a_time(services, google):
    browser = services.browser()
    pending = oauth_login(browser, google, person(google)).get_json()["pending_token"]
    with services.apps["auth"].app_context():
        tokens = services.apps["auth"].extensions["auth"].social.tokens
        lock = tokens.lock(OAUTH_PENDING, pending)
        assert lock.acquire(blocking=False)
    try:
        busy = browser.post("/v0/auth/complete-signup",
                            json={"pending_token": pending, "handle": handle()})
        assert error_of(busy) == (400, "general:bad_request")
        assert "already in progress" in busy.get_json()["details"]
    finally:
        lock.release()
    assert browser.post("/v0/auth/complete-signup",
                        json={"pending_token": pending, "handle": handle()}).status_code == 204


def test_complete_signup_rules_for_the_handle(services):
    browser = services.browser()
    for bad in ("ab", "x" * 21, "   "):
        assert browser.post("/v0/auth/complete-signup", json={
            "pending_token": "t", "handle": bad}).status_code == 400
    assert error_of(browser.post("/v0/auth/complete-signup", json={"handle": "abc"})) == (
        400, "general:bad_request")


def test_linking_adds_a_way_in_and_each_identity_has_one_owner(services, github):
    user, browser = signed_in(services)
    who = person(github)
    code, state = round_trip(browser, github, who, flow="link")
    linked = browser.post("/v0/auth/oauth/github/link", json={"code": code, "state": state})
    assert linked.status_code == 204, linked.text
    listed = browser.get("/v0/auth/oauth/connections").get_json()["connections"]
    assert [item["provider"] for item in listed] == ["Github"]
    assert "auth.oauth_linked" in outbox_types(services)
    told = [mail.subject for mail in services.mail_to(user["email"])]
    assert "A Github account was linked to your Tessera account" in told

    # The identity now signs in to that account.
    elsewhere = services.browser()
    assert oauth_login(elsewhere, github, who).status_code == 204
    assert elsewhere.get("/v0/user/me").get_json()["handle"] == user["handle"]

    _, someone_else = signed_in(services)
    code, state = round_trip(someone_else, github, who, flow="link")
    assert error_of(someone_else.post("/v0/auth/oauth/github/link", json={
        "code": code, "state": state})) == (409, "oauth:account_already_linked")
    code, state = round_trip(browser, github, person(github), flow="link")
    assert error_of(browser.post("/v0/auth/oauth/github/link", json={
        "code": code, "state": state})) == (409, "oauth:account_already_linked")


def test_linking_takes_a_session_a_recent_sign_in_and_a_link_state(services, github):
    _, browser = signed_in(services)
    code, state = round_trip(browser, github, person(github), flow="login")
    assert error_of(browser.post("/v0/auth/oauth/github/link", json={
        "code": code, "state": state})) == (400, "oauth:invalid_state")

    code, state = round_trip(browser, github, person(github), flow="link")
    age_session(services, browser, minutes=11)
    assert error_of(browser.post("/v0/auth/oauth/github/link", json={
        "code": code, "state": state})) == (403, "auth:reauthentication_required")

    anonymous = services.browser()
    assert error_of(anonymous.get("/v0/auth/oauth/github/authorize?flow=link")) == (
        401, "user:unauthorized")


def test_a_link_attempt_belongs_to_the_account_that_started_it(services, github):
    """A shared browser: one user starts linking, another signs in there and finishes."""
    _, browser = signed_in(services)
    code, state = round_trip(browser, github, person(github), flow="link")
    second, _ = signed_in(services)
    assert browser.post("/v0/auth/login", json={
        "email": second["email"], "password": second["password"]}).status_code == 204
    assert error_of(browser.post("/v0/auth/oauth/github/link", json={
        "code": code, "state": state})) == (400, "oauth:invalid_state")


def test_the_last_way_in_cannot_be_unlinked_until_a_password_is_set(services, google):
    who, browser, _ = sign_up(services, google)
    assert error_of(browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Google"})) == (400, "oauth:cannot_unlink_last_connection")
    assert error_of(browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Github"})) == (404, "oauth:connection_not_found")
    assert error_of(browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "google"})) == (400, "general:bad_request")  # the wire names are PascalCase
    assert error_of(browser.post("/v0/auth/login", json={
        "email": who.email, "password": "anything at all"})) == (401, "auth:invalid_credentials")

    # "Forgot password" gives a password-less account its first password ...
    assert browser.post("/v0/auth/forgot-password", json={"email": who.email}).status_code == 204
    [mail] = [m for m in services.mail_to(who.email) if "Reset" in m.subject]
    token = LINK.search(mail.body).group(2)
    new_password = "a brand new passphrase"
    assert browser.post("/v0/auth/reset-password", json={
        "token": token, "new_password": new_password}).status_code == 204
    # ... which ended every session; signing in with it, the provider can go.
    assert browser.post("/v0/auth/login", json={
        "email": who.email, "password": new_password}).status_code == 204
    assert browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Google"}).status_code == 204
    assert browser.get("/v0/auth/oauth/connections").get_json() == {"connections": []}
    assert "auth.oauth_unlinked" in outbox_types(services)
    assert "A Google account was unlinked from your Tessera account" in [
        mail.subject for mail in services.mail_to(who.email)]
    assert oauth_login(services.browser(), google, who).status_code == 409  # email taken now


def test_unlinking_takes_a_recent_sign_in(services, google):
    _, browser, _ = sign_up(services, google)
    age_session(services, browser, minutes=11)
    assert error_of(browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Google"})) == (403, "auth:reauthentication_required")
    assert error_of(services.browser().post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Google"})) == (401, "user:unauthorized")
    assert error_of(services.browser().get("/v0/auth/oauth/connections")) == (
        401, "user:unauthorized")


def test_a_social_sign_in_still_asks_for_the_second_factor(services, github):
    user, browser, phone, _ = with_totp(services)
    who = person(github)
    code, state = round_trip(browser, github, who, flow="link")
    assert browser.post("/v0/auth/oauth/github/link",
                        json={"code": code, "state": state}).status_code == 204

    fresh = services.browser()
    answer = oauth_login(fresh, github, who)
    assert answer.status_code == 202, answer.text
    assert "session_id" not in fresh.cookies
    done = fresh.post("/v0/auth/totp/verify", json={"temp_token": answer.get_json()[
        "temp_token"], "code": phone.code()})
    assert done.status_code == 204, done.text
    assert fresh.get("/v0/user/me").get_json()["handle"] == user["handle"]


def test_a_password_less_account_is_deleted_after_a_fresh_provider_sign_in(services, google):
    who, browser, _ = sign_up(services, google)
    age_session(services, browser, minutes=11)
    assert error_of(browser.delete("/v0/user/me", json={})) == (
        403, "auth:reauthentication_required")
    assert oauth_login(browser, google, who).status_code == 204  # the fresh round trip
    assert browser.delete("/v0/user/me", json={}).status_code == 204
    assert account_of(services, who.email) is None


def test_a_provider_that_is_down_answers_502_and_leaves_nothing(services, google):
    browser = services.browser()
    code, state = round_trip(browser, google, person(google))
    before = services.stored()
    google.down = True
    try:
        answer = browser.post("/v0/auth/oauth/google/login",
                              json={"code": code, "state": state})
    finally:
        google.down = False
    assert error_of(answer) == (502, "oauth:provider_unavailable")
    assert "try again" in answer.get_json()["details"]
    assert services.stored() == before


def test_bad_requests_get_the_v0_envelope(services):
    browser = services.browser()
    assert error_of(browser.get("/v0/auth/oauth/google/authorize?flow=signup")) == (
        400, "general:bad_request")
    assert error_of(browser.get("/v0/auth/oauth/discord/authorize")) == (404, "system:not_found")
    assert error_of(browser.post("/v0/auth/oauth/google/login", json={"code": ""})) == (
        400, "general:bad_request")
    assert error_of(browser.post("/v0/auth/oauth/google/login", json={
        "code": "c", "state": "s" * 5000})) == (400, "general:validation_error")
    assert error_of(browser.post("/v0/auth/oauth/google/login", data="{",
                                 content_type="application/json")) == (400, "general:bad_request")


@pytest.mark.parametrize("cookie", ["", "not-a-uuid", "x" * 300])
def test_a_browser_with_a_broken_anonymous_id_gets_a_new_one_and_signs_in(services, google,
                                                                         cookie):
    browser = services.browser()
    browser.cookies["anonymous_user_id"] = cookie
    answer = oauth_login(browser, google, person(google))
    assert answer.status_code == 200, answer.text
    assert browser.cookies["anonymous_user_id"] != cookie


def test_a_state_lives_five_minutes_and_a_pending_sign_up_ten(services, google):
    redis = services.apps["auth"].extensions["tessera"].redis
    browser = services.browser()
    code, state = round_trip(browser, google, person(google))
    assert 0 < redis.ttl(f"oauth_state:{digest(state)}") <= 300
    pending = browser.post("/v0/auth/oauth/google/login",
                           json={"code": code, "state": state}).get_json()["pending_token"]
    key = f"oauth_pending:{digest(pending)}"
    assert 300 < redis.ttl(key) <= 600
    redis.delete(key)  # what its ten minutes running out does
    assert error_of(browser.post("/v0/auth/complete-signup", json={
        "pending_token": pending, "handle": handle()})) == (401, "user:token_expired")

    code, state = round_trip(browser, google, person(google))
    redis.delete(f"oauth_state:{digest(state)}")  # five minutes later
    assert error_of(browser.post("/v0/auth/oauth/google/login", json={
        "code": code, "state": state})) == (400, "oauth:invalid_state")


def test_the_console_can_ask_which_providers_are_enabled(services):
    answer = services.browser().get("/v0/auth/oauth/providers")
    assert answer.get_json() == {"providers": ["github", "google"]}


def test_a_passkey_is_a_way_in_so_the_last_provider_can_go(services, google):
    who, browser, _ = sign_up(services, google)
    key = SoftAuthenticator(origin="http://localhost:8080")
    added = add_passkey(browser, key)
    assert added.status_code == 201, added.text
    assert browser.post("/v0/auth/oauth/connections/unlink", json={
        "provider": "Google"}).status_code == 204
    # now the passkey is the last way in, and stays
    assert error_of(browser.delete(f"/v0/auth/passkeys/{added.get_json()['id']}")) == (
        400, "passkey:cannot_delete_last_credential")
    other = services.browser()
    options = other.post("/v0/auth/login/passkey/options", json={}).get_json()
    assert other.post("/v0/auth/login/passkey",
                      json={"credential": key.get(options)}).status_code == 204
    assert other.get("/v0/user/me").get_json()["email"] == who.email
