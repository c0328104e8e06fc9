"""Follows in process: following, unfollowing, the counts on profiles, the pages of
followers and following, and what deleting an account does to them."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from tessera_shared.outbox import outbox
from user_service.models import Follow
from user_service.models import db as user_db


def signed_up(services):
    handle = f"u{uuid.uuid4().hex[:10]}"
    user = {"email": f"{handle}@example.com", "handle": handle, "display_name": "Test User",
            "password": "correct horse battery staple"}
    browser = services.browser()
    assert browser.post("/v0/users", json=user).status_code == 201
    assert browser.post("/v0/auth/login", json={
        "email": user["email"], "password": user["password"]}).status_code == 204
    user["id"] = browser.get("/v0/user/me").get_json()["id"]
    return user, browser


def counts(browser, handle):
    shown = browser.get(f"/v0/users/profile?handle={handle}").get_json()
    return shown["followers_count"], shown["following_count"]


def user_events(services) -> list[str]:
    with services.apps["user"].app_context():
        return list(user_db.session.scalars(sa.select(outbox.c.type)))


def test_following_is_idempotent_and_shows_in_the_counts_at_once(services):
    ann, ann_browser = signed_up(services)
    bob, bob_browser = signed_up(services)
    assert counts(bob_browser, ann["handle"]) == (0, 0)
    assert bob_browser.get(f"/v0/users/{ann['id']}/follow").get_json() == {"following": False}
    for _ in range(2):
        assert bob_browser.post(f"/v0/users/{ann['id']}/follow").status_code == 204
    assert counts(bob_browser, ann["handle"]) == (1, 0)
    assert bob_browser.get(f"/v0/users/{ann['id']}/follow").get_json() == {"following": True}
    assert ann_browser.get(f"/v0/users/{bob['id']}/follow").get_json() == {"following": False}
    assert counts(ann_browser, bob["handle"]) == (0, 1)
    me = bob_browser.get("/v0/user/me").get_json()
    assert (me["followers_count"], me["following_count"]) == (0, 1)
    assert user_events(services).count("user.followed") >= 1

    for _ in range(2):
        assert bob_browser.delete(f"/v0/users/{ann['id']}/follow").status_code == 204
    assert counts(bob_browser, ann["handle"]) == (0, 0)
    assert "user.unfollowed" in user_events(services)


def test_nobody_follows_themselves_or_someone_who_does_not_exist(services):
    ann, browser = signed_up(services)
    answer = browser.post(f"/v0/users/{ann['id']}/follow")
    assert (answer.status_code, answer.get_json()["code"]) == (400, "user:cannot_follow_self")
    missing = browser.post(f"/v0/users/{uuid.uuid4()}/follow")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "user:not_found")
    bad = browser.post("/v0/users/not-a-uuid/follow")
    assert (bad.status_code, bad.get_json()["code"]) == (400, "general:bad_request")
    anonymous = services.browser().post(f"/v0/users/{ann['id']}/follow")
    assert (anonymous.status_code, anonymous.get_json()["code"]) == (401, "user:unauthorized")


def test_followers_and_following_come_in_pages_newest_first(services):
    star, star_browser = signed_up(services)
    fans = [signed_up(services) for _ in range(5)]
    for _, browser in fans:
        assert browser.post(f"/v0/users/{star['id']}/follow").status_code == 204
    first = star_browser.get(f"/v0/users/{star['id']}/followers?page=1&page_size=2").get_json()
    assert (first["total"], first["total_pages"], first["page"]) == (5, 3, 1)
    assert [u["handle"] for u in first["users"]] == [fans[4][0]["handle"], fans[3][0]["handle"]]
    last = star_browser.get(f"/v0/users/{star['id']}/followers?page=3&page_size=2").get_json()
    assert [u["handle"] for u in last["users"]] == [fans[0][0]["handle"]]
    following = star_browser.get(f"/v0/users/{fans[0][0]['id']}/following").get_json()
    assert [u["handle"] for u in following["users"]] == [star["handle"]]
    assert set(following["users"][0]) >= {"id", "handle", "display_name"}
    assert star_browser.get(f"/v0/users/{uuid.uuid4()}/followers").status_code == 404
    assert star_browser.get(
        f"/v0/users/{star['id']}/followers?page_size=1000").status_code == 400


def test_two_follows_at_once_make_one_edge(services):
    ann, _ = signed_up(services)
    _, bob_browser = signed_up(services)
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(
        bob_browser.post(f"/v0/users/{ann['id']}/follow").status_code)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [204] * 4
    assert counts(bob_browser, ann["handle"]) == (1, 0)


@pytest.mark.parametrize("leaver", ["follower", "followee"])
def test_deleting_an_account_removes_its_follows(services, leaver):
    ann, ann_browser = signed_up(services)
    bob, bob_browser = signed_up(services)
    assert bob_browser.post(f"/v0/users/{ann['id']}/follow").status_code == 204
    gone, gone_browser, stays, stays_browser = (
        (bob, bob_browser, ann, ann_browser) if leaver == "follower"
        else (ann, ann_browser, bob, bob_browser))
    assert gone_browser.delete("/v0/user/me", json={
        "password": gone["password"]}).status_code == 204
    assert counts(stays_browser, stays["handle"]) == (0, 0)
    with services.apps["user"].app_context():
        assert user_db.session.scalar(sa.select(sa.func.count()).select_from(Follow).where(
            sa.or_(Follow.follower_id == gone["id"], Follow.followee_id == gone["id"]))) == 0


def test_follow_changes_have_an_hourly_budget(services):
    ann, _ = signed_up(services)
    _, browser = signed_up(services)
    answers = [browser.post(f"/v0/users/{ann['id']}/follow").status_code for _ in range(100)]
    assert answers == [204] * 100
    refused = browser.delete(f"/v0/users/{ann['id']}/follow")
    assert (refused.status_code, refused.get_json()["code"]) == (429, "rate_limit:exceeded")
