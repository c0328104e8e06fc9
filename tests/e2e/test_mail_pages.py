"""The console's views behind the mailed links, in headless Chromium (Debian's, driven by
Playwright): each spends its token once, keeps it out of the address bar, and says what
happened and what to do next."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.e2e.conftest import accessible, needs_chromium, new_user, unique, verify_email, visitor
from tests.mailbox import link_in

pytestmark = needs_chromium


def signed_up(platform):
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    return user


def outcome(page, text: str) -> None:
    expect(page.locator("[data-slot=outcome]")).to_contain_text(text)


def test_the_verification_link_verifies_once_and_leaves_no_token_behind(platform, mailbox,
                                                                        page):
    user = signed_up(platform)
    link, _ = link_in(mailbox.wait_for(user["email"], "Verify your email"))
    page.goto(link)
    outcome(page, "is verified")
    assert page.url == f"{platform.url}/verify-email"  # the secret left the address bar ...
    page.get_by_role("link", name="Go to your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.go_back()  # ... and the history
    assert page.url == f"{platform.url}/verify-email"
    page.goto(link)
    outcome(page, "invalid, used or expired")
    expect(page.get_by_role("link", name="Go to your account")).to_be_hidden()
    page.goto(link[:-10])  # cut short in the copy: a link that no longer works, in words
    outcome(page, "invalid, used or expired")


def test_an_unverified_account_mails_itself_a_new_link(platform, mailbox, page):
    user = signed_up(platform)
    mailbox.wait_for(user["email"], "Verify your email")
    page.goto(f"{platform.url}/signin")
    page.locator("main").get_by_label("Email").fill(user["email"])
    page.locator("main").get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("main")).to_contain_text("Not verified yet")
    resend = page.get_by_role("button", name="Mail me the link again")
    resend.click()
    expect(page.locator("#status")).to_contain_text(f"on its way to {user['email']}")
    expect(resend).to_be_disabled()
    link, _ = link_in(mailbox.wait_for(user["email"], "Verify your email", count=2))
    page.goto(link)  # the newest link works
    outcome(page, "is verified")
    page.get_by_role("link", name="Go to your account").click()
    expect(page.locator("main")).to_contain_text("Verified")
    expect(resend).to_be_hidden()


def test_the_reset_link_asks_for_the_password_twice_and_sends_to_sign_in(platform, mailbox,
                                                                         page):
    user = signed_up(platform)
    requests.post(f"{platform.url}/v0/auth/forgot-password", json={"email": user["email"]},
                  timeout=10)
    link, _ = link_in(mailbox.wait_for(user["email"], "Reset your password"))
    page.goto(link)
    form = page.locator("main form")
    form.get_by_label("New password").fill("a passphrase of my own")
    form.get_by_label("Once more").fill("a different passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#reset-repeat-error")).to_contain_text("differ")
    accessible(page, shot="choose-a-new-password-refused")
    expect(form.get_by_label("Once more")).to_be_focused()

    form.get_by_label("New password").fill("short")
    form.get_by_label("Once more").fill("short")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#reset-new_password-error")).to_contain_text("8")  # the API's rule

    form.get_by_label("New password").fill("a passphrase of my own")
    form.get_by_label("Once more").fill("a passphrase of my own")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("#status")).to_contain_text("password is changed")
    login = visitor().post(f"{platform.url}/v0/auth/login", timeout=10, json={
        "email": user["email"], "password": "a passphrase of my own"})
    assert login.status_code == 204

    page.goto(link)  # spent: it says so, and how to get a new one
    form.get_by_label("New password").fill("yet another passphrase")
    form.get_by_label("Once more").fill("yet another passphrase")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.locator("#reset-error")).to_contain_text("Forgot your password?")


def test_the_email_change_links_confirm_and_undo_the_change(platform, mailbox, page):
    user = signed_up(platform)
    verify_email(platform, user["email"])
    client = visitor()
    client.post(f"{platform.url}/v0/auth/login", timeout=10,
                json={"email": user["email"], "password": user["password"]})
    new_email = f"{unique()}@example.org"
    client.post(f"{platform.url}/v0/auth/change-email", timeout=10,
                json={"password": user["password"], "new_email": new_email})
    link, _ = link_in(mailbox.wait_for(new_email, "Confirm your email change"))
    page.goto(link)
    outcome(page, "uses this address")
    assert client.get(f"{platform.url}/v0/user/me", timeout=10).json()["email"] == new_email

    undo, _ = link_in(mailbox.wait_for(user["email"], "Your Tessera email address changed"))
    page.goto(undo)
    outcome(page, "back on this address")
    accessible(page)
    page.get_by_role("link", name="Choose a new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    assert client.get(f"{platform.url}/v0/user/me", timeout=10).status_code == 401


def test_a_link_without_its_token_says_what_to_do(platform, page):
    page.goto(f"{platform.url}/verify-email")
    outcome(page, "no token")
    page.goto(f"{platform.url}/reset-password")
    outcome(page, "no token")
    expect(page.locator("main form")).to_have_count(0)


def test_the_link_views_forbid_inline_scripts_and_are_never_stored(platform):
    for path in ("/verify-email", "/reset-password", "/confirm-email-change",
                 "/report-email-change"):
        answer = requests.get(f"{platform.url}{path}?token=x", timeout=10)
        assert answer.status_code == 200
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in answer.headers["Content-Security-Policy"]
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        # Every script comes from a file and nothing carries its own style.
        assert re.findall(r"<script\b[^>]*>", answer.text) == [
            '<script type="module" src="/console/app.js">']
        assert " style=" not in answer.text
