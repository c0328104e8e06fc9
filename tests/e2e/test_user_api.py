"""The user API (document 003) through the gateway, across families: an account made through
`/user` is the same account in v0, the users API and the registry's lookups, and the other way
round; its sessions are the platform's; and a client reads its own writes under load."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import new_user, unique, verify_email, visitor
from tests.mailbox import link_in

ID_IN_MAIL = re.compile(r"give your app this reset id:\s+(\S+)")


def created(platform, **overrides):
    name = unique()
    user = {"username": name, "email": f"{name}@example.com",
            "password": "correct horse battery staple", **overrides}
    answer = visitor().post(f"{platform.url}/user/create", json=user, timeout=10)
    assert answer.status_code == 200, answer.text
    return user


def user_auth(platform, username, password, client=None):
    return (client or visitor()).post(f"{platform.url}/user/auth", timeout=10,
                                      json={"username": username, "password": password})


def test_an_account_made_through_the_user_api_is_everyones(platform):
    user = created(platform, name="Grace", bio="Admiral")
    v0 = visitor()
    assert v0.post(f"{platform.url}/v0/auth/login", timeout=10, json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    me = v0.get(f"{platform.url}/v0/user/me", timeout=10).json()
    assert (me["handle"], me["display_name"], me["bio"]) == (user["username"], "Grace", "Admiral")
    users_api = visitor().post(f"{platform.url}/api/login", timeout=10, json={
        "username": user["username"], "password": user["password"]})
    assert users_api.json()["success"] == "true"
    registry = visitor().get(f"{platform.url}/api/get/uuid/{user['username']}", timeout=10)
    assert registry.json()["data"] == {"user_id": me["id"]}


def test_accounts_made_elsewhere_sign_in_through_the_user_api(platform):
    v0_user = new_user()
    assert visitor().post(f"{platform.url}/v0/users", json=v0_user,
                          timeout=10).status_code == 201
    client = visitor()
    signed = user_auth(platform, v0_user["handle"], v0_user["password"], client)
    assert signed.json() == {"statusCode": "200", "message": "Authenticated", "data": "null"}
    assert client.get(f"{platform.url}/user/logged", timeout=10).json()["message"] == (
        "Validation")

    name = unique()
    assert visitor().post(f"{platform.url}/api/users/register", timeout=10, json={
        "username": name, "password": "correct horse battery staple",
        "email": f"{name}@example.com"}).json()["data"]["message"] == "USER_INSERT_OK"
    assert user_auth(platform, name, "correct horse battery staple").status_code == 200
    profile = visitor().get(f"{platform.url}/user/profile/{name}", timeout=10).json()
    assert profile["data"]["username"] == name


def test_a_user_api_reset_ends_the_sessions_of_every_family(platform):
    user = created(platform)
    v0 = visitor()
    v0.post(f"{platform.url}/v0/auth/login", timeout=10,
            json={"email": user["email"], "password": user["password"]})
    token_client = visitor()
    assert user_auth(platform, user["username"], user["password"],
                     token_client).status_code == 200

    assert visitor().post(f"{platform.url}/user/password-reset-token", timeout=10,
                          params={"email": user["email"]}).status_code == 200
    mail = platform.mailbox.wait_for(user["email"], "Reset your password")
    reset_id = ID_IN_MAIL.search(mail.get_content()).group(1)
    done = visitor().post(f"{platform.url}/user/password-reset", timeout=10, json={
        "uuid": reset_id, "newPassword": "an entirely new phrase"})
    assert done.json()["message"] == "New password has been set successfully"
    assert v0.get(f"{platform.url}/v0/user/me", timeout=10).status_code == 401
    assert token_client.get(f"{platform.url}/user/logged", timeout=10).json()["message"] == (
        "No auth info found")


def test_follows_show_in_both_families_profiles(platform):
    star, fan = created(platform), created(platform)
    client = visitor()
    client.post(f"{platform.url}/v0/auth/login", timeout=10,
                json={"email": fan["email"], "password": fan["password"]})
    star_id = client.get(f"{platform.url}/v0/users/profile", params={
        "handle": star["username"]}, timeout=10).json()["id"]
    assert client.post(f"{platform.url}/v0/users/{star_id}/follow",
                       timeout=10).status_code == 204
    v0_profile = client.get(f"{platform.url}/v0/users/profile", timeout=10,
                            params={"handle": star["username"]}).json()
    assert v0_profile["followers_count"] == 1
    shown = visitor().get(f"{platform.url}/user/profile/{star['username']}", timeout=10).json()
    assert (shown["data"]["followers"], shown["data"]["following"]) == (1, 0)
    assert client.delete(f"{platform.url}/v0/users/{star_id}/follow",
                         timeout=10).status_code == 204
    assert client.get(f"{platform.url}/v0/users/{star_id}/followers",
                      timeout=10).json()["total"] == 0


def verify_then_read(platform) -> tuple[bool, int]:
    """Sign up, open the verification link, read the profile at once; delete the account,
    read the profile at once. What each read said."""
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user, timeout=20).status_code == 201
    client = visitor()
    _, token = link_in(platform.mailbox.wait_for(user["email"], "Verify your email",
                                                 timeout=60))
    assert client.post(f"{platform.url}/v0/auth/verify-email", json={"token": token},
                       timeout=20).status_code == 204
    verified = client.get(f"{platform.url}/v0/users/profile", params={
        "handle": user["handle"]}, timeout=20).json()["is_verified"]
    assert client.post(f"{platform.url}/v0/auth/login", timeout=20, json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    assert client.delete(f"{platform.url}/v0/user/me", json={"password": user["password"]},
                         timeout=20).status_code == 204
    after = client.get(f"{platform.url}/v0/users/profile", params={"handle": user["handle"]},
                       timeout=20).status_code
    return verified, after


def test_a_client_reads_its_own_writes_across_services_under_load(platform):
    """Sixteen clients at once: each sees its verification and its deletion in the very next
    read, though user-service also learns both from the event stream."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        seen = list(pool.map(lambda _: verify_then_read(platform), range(32)))
    assert seen == [(True, 404)] * 32


def test_verify_email_page_still_works_for_user_api_accounts(platform):
    user = created(platform)
    verify_email(platform, user["email"])
    shown = visitor().get(f"{platform.url}/v0/users/profile", timeout=10,
                          params={"handle": user["username"]}).json()
    assert shown["is_verified"] is True
