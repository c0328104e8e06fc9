"""Passkeys in the console: headless Chromium with Chrome DevTools Protocol's virtual
authenticator (a platform authenticator with resident keys and user verification), against the
real platform and py_webauthn's verifier. Passkeys need a domain name, so the browser opens the
platform at `localhost` (the embedded default binds them there)."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.authenticator import Authenticator
from tests.e2e.conftest import accessible, needs_chromium, new_user, verify_email
from tests.e2e.test_console import heading

pytestmark = needs_chromium


def at_localhost(platform) -> str:
    return platform.url.replace("127.0.0.1", "localhost")


def virtual_authenticator(page: Page, *, user_verified: bool = True) -> tuple[object, str]:
    """A passkey authenticator in this page's browser that says yes at once; without
    `user_verified`, one with no PIN or biometrics (a plain security key)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
        "hasResidentKey": True, "hasUserVerification": user_verified,
        "isUserVerified": user_verified, "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


def without_autofill(page: Page) -> None:
    """A browser that offers no passkeys in autofill (conditional mediation), so the sign-in
    view waits for its button: the virtual authenticator would answer an autofill request at
    once."""
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = "
                         "async () => false;")


def signed_up(platform) -> dict[str, str]:
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    verify_email(platform, user["email"])
    return user


def sign_in_with_password(page: Page, url: str, user) -> None:
    page.goto(f"{url}/signin")
    heading(page, "Sign in")
    page.locator("main").get_by_label("Email").fill(user["email"])
    page.locator("main").get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    heading(page, "Your account")


def add_passkey(page: Page, name: str) -> None:
    section = page.locator("section", has=page.get_by_role("heading", name="Passkeys"))
    section.get_by_label("Name", exact=False).first.fill(name)
    section.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#status")).to_have_text(
        f"The passkey “{name}” is added: it signs you in from now on.")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    heading(page, "Sign in")


def test_add_a_passkey_sign_in_with_it_rename_and_remove_it(platform, page):
    url, user = at_localhost(platform), signed_up(platform)
    cdp, authenticator = virtual_authenticator(page)
    without_autofill(page)
    sign_in_with_password(page, url, user)
    add_passkey(page, "This laptop")
    passkeys = page.locator("#passkeys li")
    expect(passkeys).to_have_count(1)
    expect(passkeys.first.get_by_label("Name of this passkey")).to_have_value("This laptop")
    expect(passkeys.first).to_contain_text("not used yet")
    [credential] = cdp.send("WebAuthn.getCredentials",
                            {"authenticatorId": authenticator})["credentials"]
    assert credential["isResidentCredential"]
    accessible(page, "account-passkeys")

    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    heading(page, "Your account")
    expect(page.locator("main")).to_contain_text(user["handle"])
    expect(passkeys.first).to_contain_text("last used")
    log = page.locator("#security-log")
    expect(log).to_contain_text("Passkey added")
    expect(log).to_contain_text("Passkey used")

    passkeys.first.get_by_label("Name of this passkey").fill("Work laptop")
    passkeys.first.get_by_role("button", name="Rename").click()
    expect(page.locator("#status")).to_have_text("The passkey is now called “Work laptop”.")
    page.reload()
    expect(page.locator("#passkeys li").first.get_by_label("Name of this passkey")
           ).to_have_value("Work laptop")

    page.locator("#passkeys li").first.get_by_role("button", name="Remove").click()
    expect(page.locator("#status")).to_have_text("The passkey “Work laptop” is removed.")
    expect(page.locator("#passkeys li")).to_have_count(0)
    expect(log).to_contain_text("Passkey removed")

    # the authenticator still holds it, but the platform no longer knows it
    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator("#signin-error")).to_contain_text("not registered here")


def test_the_email_fields_autofill_signs_in_with_a_passkey(platform, page):
    url, user = at_localhost(platform), signed_up(platform)
    virtual_authenticator(page)
    sign_in_with_password(page, url, user)
    add_passkey(page, "Phone")
    sign_out(page)
    # The sign-in view asks for passkeys with conditional mediation as it opens: the browser
    # offers them in the email field's autofill; the virtual authenticator picks at once.
    page.goto(f"{url}/signin")
    expect(page.locator("#signin-email")).to_have_attribute("autocomplete", "username webauthn")
    heading(page, "Your account")
    expect(page.locator("main")).to_contain_text(user["handle"])


def test_a_security_key_stands_in_for_the_totp_code_after_the_password(platform, page):
    # A passkey without user verification is one factor: after the password, it is the
    # second. (Chromium keeps such passkeys out of sign-ins that name no account.)
    url, user = at_localhost(platform), signed_up(platform)
    virtual_authenticator(page, user_verified=False)
    sign_in_with_password(page, url, user)
    _turn_on_totp(page)
    add_passkey(page, "Security key")
    sign_out(page)
    page.locator("main").get_by_label("Email").fill(user["email"])
    page.locator("main").get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    heading(page, "Two-factor authentication")
    accessible(page, "second-factor-passkey")
    page.get_by_role("button", name="Use a passkey instead").click()
    heading(page, "Your account")
    expect(page.locator("#security-log")).to_contain_text("Passkey used")


def test_a_page_opened_at_another_address_says_where_passkeys_work(platform, page):
    user = signed_up(platform)
    virtual_authenticator(page)
    sign_in_with_password(page, platform.url, user)  # 127.0.0.1: no passkey belongs there
    section = page.locator("section", has=page.get_by_role("heading", name="Passkeys"))
    section.get_by_role("button", name="Add a passkey").click()
    # Chromium takes a few seconds to refuse a request for a site that is not this one.
    expect(page.locator("#passkey-add-error")).to_contain_text(
        f"open this page at {at_localhost(platform)} to use them", timeout=20_000)
    expect(page.locator("#passkeys li")).to_have_count(0)


def _turn_on_totp(page: Page) -> Authenticator:
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = page.locator("#totp-secret").text_content()
    phone = Authenticator(f"otpauth://totp/Tessera:x?secret={secret}&issuer=Tessera")
    page.get_by_label("Code from the app").fill(phone.code())
    page.get_by_role("button", name="Turn it on").click()
    expect(page.locator("#totp-codes")).to_be_visible()
    return phone
