"""A client reads its own writes across services, in process: no event consumer runs here,
so whatever another service shows right after a write must have reached it inside the use
case, not later through the event stream."""

from __future__ import annotations

import uuid

from tests.mailbox import LINK


def new_user() -> dict[str, str]:
    handle = f"u{uuid.uuid4().hex[:10]}"
    return {"email": f"{handle}@example.com", "handle": handle, "display_name": "Test User",
            "password": "correct horse battery staple"}


def signed_up(services):
    user = new_user()
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    assert browser.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    return user, browser


def profile(browser, handle: str):
    return browser.get(f"/v0/users/profile?handle={handle}")


def test_a_verified_address_shows_in_the_profile_at_once(services):
    user, browser = signed_up(services)
    assert profile(browser, user["handle"]).get_json()["is_verified"] is False
    [mail] = services.mail_to(user["email"])
    token = LINK.search(mail.body).group(2)
    assert browser.post("/v0/auth/verify-email", json={"token": token}).status_code == 204
    assert profile(browser, user["handle"]).get_json()["is_verified"] is True


def test_a_confirmed_email_change_shows_as_verified_at_once(services):
    user, browser = signed_up(services)
    [mail] = services.mail_to(user["email"])
    browser.post("/v0/auth/verify-email", json={"token": LINK.search(mail.body).group(2)})
    new_address = f"moved-{user['handle']}@example.com"
    assert browser.post("/v0/auth/change-email", json={
        "password": user["password"], "new_email": new_address}).status_code == 204
    [confirm] = services.mail_to(new_address)
    assert browser.post("/v0/auth/confirm-email-change", json={
        "token": LINK.search(confirm.body).group(2)}).status_code == 204
    assert browser.get("/v0/user/me").get_json()["email"] == new_address
    assert profile(browser, user["handle"]).get_json()["is_verified"] is True


def test_a_deleted_account_is_gone_from_every_answer_at_once(services):
    user, browser = signed_up(services)
    assert browser.delete("/v0/user/me", json={"password": user["password"]}).status_code == 204
    assert profile(services.browser(), user["handle"]).status_code == 404
    assert services.browser().get(
        f"/v0/users/handle/{user['handle']}/available").get_json() == {"available": True}
