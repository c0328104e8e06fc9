"""The pages behind the mailed links, in headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import needs_chromium, new_user, unique, verify_email, visitor
from tests.mailbox import link_in

pytestmark = needs_chromium


def signed_up(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    return user


def says(page, text: str) -> None:
    """Wait until the page's status line says `text` (without running code in the page, which
    its Content-Security-Policy rightly forbids)."""
    expect(page.locator("#status")).to_contain_text(text)


def test_the_verification_link_verifies_in_the_browser_once(platform, mailbox, page):
    user = signed_up(platform)
    link, _ = link_in(mailbox.wait_for(user["email"], "Verify your email"))
    page.goto(link)
    says(page, "is verified")
    assert "token" not in page.url  # the secret leaves the address bar
    page.goto(link)
    says(page, "invalid, used or expired")


def test_the_reset_link_lets_the_user_choose_a_new_password(platform, mailbox, page, tmp_path):
    user = signed_up(platform)
    requests.post(f"{platform.url}/v0/auth/forgot-password", json={"email": user["email"]})
    link, _ = link_in(mailbox.wait_for(user["email"], "Reset your password"))
    page.goto(link)
    page.fill("#password", "a passphrase of my own")
    page.fill("#repeat", "a different passphrase")
    page.click("button[type=submit]")
    says(page, "differ")
    page.fill("#repeat", "a passphrase of my own")
    page.click("button[type=submit]")
    says(page, "password is changed")
    expect(page.locator("#reset")).to_be_hidden()
    page.screenshot(path=tmp_path / "reset.png")
    login = visitor().post(f"{platform.url}/v0/auth/login", json={
        "email": user["email"], "password": "a passphrase of my own"})
    assert login.status_code == 204


def test_the_email_change_link_confirms_the_new_address(platform, mailbox, page):
    user = signed_up(platform)
    verify_email(platform, user["email"])
    client = visitor()
    client.post(f"{platform.url}/v0/auth/login",
                json={"email": user["email"], "password": user["password"]})
    new_email = f"{unique()}@example.org"
    client.post(f"{platform.url}/v0/auth/change-email",
                json={"password": user["password"], "new_email": new_email})
    link, _ = link_in(mailbox.wait_for(new_email, "Confirm your email change"))
    page.goto(link)
    says(page, "new address")
    assert client.get(f"{platform.url}/v0/user/me").json()["email"] == new_email
    undo, _ = link_in(mailbox.wait_for(user["email"], "Your Tessera email address changed"))
    page.goto(undo)
    says(page, "back on this address")
    assert client.get(f"{platform.url}/v0/user/me").status_code == 401


def test_a_link_without_its_token_says_what_to_do(platform, page):
    page.goto(f"{platform.url}/verify-email")
    says(page, "no token")
    page.goto(f"{platform.url}/reset-password")
    says(page, "no token")
    expect(page.locator("#reset")).to_be_hidden()


def test_the_pages_forbid_inline_scripts_and_are_never_cached(platform):
    answer = requests.get(f"{platform.url}/reset-password?token=x")
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Cache-Control"] == "no-store"
    assert "<script>" not in answer.text
