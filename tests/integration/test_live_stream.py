"""The live action-log stream in a real events-service app and Redis: what it holds on to, and
whose rights it reads with while it stays open."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

import events_service
from events_service.live import CHANNEL, publisher
from tessera_shared.config import Settings
from tessera_shared.migrations import upgrade
from tessera_shared.platform import platform
from tessera_shared.sessions import Client


def subscribers(redis_client: redis.Redis) -> int:
    return redis_client.pubsub_numsub(CHANNEL)[0][1]


@pytest.fixture
def events_app(service_env: dict[str, str], redis_client: redis.Redis) -> Iterator:
    settings = Settings.from_env("events", service_env)
    upgrade(settings)
    app = events_service.create_app(settings)
    broadcaster = app.extensions["events"].broadcaster
    before = subscribers(redis_client)
    broadcaster.start()
    deadline = time.monotonic() + 10
    while subscribers(redis_client) <= before:  # entries published earlier would be lost
        assert time.monotonic() < deadline, "the broadcaster never subscribed"
        time.sleep(0.01)
    yield app
    broadcaster.stop()


def sign_in(app, user_id: str, role: str = "user") -> str:
    with app.app_context():
        token, _ = platform().sessions.create(user_id, Client("10.0.0.1", "test"),
                                              remember_me=False, role=role)
    return token


def private_entry(actor_id: str) -> dict:
    return {"id": str(uuid.uuid4()), "action": "auth:login_failed", "actor_id": actor_id,
            "actor_ip": "10.9.9.9", "resource_type": "User", "resource_id": actor_id,
            "summary": "A sign-in failed", "metadata": {"user_agent": "SecretBrowser/1.0"},
            "public": False, "created_at": "2026-12-01T00:00:00Z"}


def open_stream(app, token: str | None = None):
    client = app.test_client()
    if token:
        client.set_cookie("session_id", token)
    response = client.get("/v0/eventstream/actions", buffered=False)
    chunks = iter(response.response)
    assert next(chunks) == b": connected\n\n"
    return response, chunks


def frame_of(chunks, entry: dict) -> bytes:
    """The stream's frame for `entry`, skipping keep-alives and entries of other tests (a
    Redis shared with other platforms carries theirs too)."""
    for chunk in chunks:
        if entry["id"].encode() in chunk:
            return chunk
    raise AssertionError("the stream ended without the entry")


def ends_without(chunks, entry: dict) -> bool:
    """The stream ends, and never shows `entry`."""
    return all(entry["id"].encode() not in chunk for chunk in chunks)


def test_head_on_the_stream_subscribes_nothing(events_app):
    for _ in range(5):
        assert events_app.test_client().head("/v0/eventstream/actions").status_code == 200
    assert events_app.extensions["events"].broadcaster.subscriptions == set()


def test_a_closed_stream_gives_its_subscription_back(events_app):
    response, _ = open_stream(events_app)
    assert len(events_app.extensions["events"].broadcaster.subscriptions) == 1
    response.close()
    assert events_app.extensions["events"].broadcaster.subscriptions == set()


def test_a_stream_shows_its_viewer_their_own_private_entries(events_app, redis_client):
    user_id = str(uuid.uuid4())
    response, chunks = open_stream(events_app, sign_in(events_app, user_id))
    entry = private_entry(user_id)
    publisher(redis_client)(entry)
    assert b"SecretBrowser" in frame_of(chunks, entry)
    response.close()


@pytest.mark.parametrize("change", ["logout", "demotion"])
def test_a_stream_whose_session_ended_or_changed_rights_ends_before_showing_more(
        events_app, redis_client: redis.Redis, change):
    user_id = str(uuid.uuid4())
    role = "admin" if change == "demotion" else "user"
    token = sign_in(events_app, user_id, role)
    response, chunks = open_stream(events_app, token)
    with events_app.app_context():
        if change == "logout":
            platform().sessions.revoke(token)
        else:
            platform().sessions.set_role(user_id, "user")
    entry = private_entry(user_id if change == "logout" else str(uuid.uuid4()))
    publisher(redis_client)(entry)
    assert ends_without(chunks, entry)
    response.close()
    assert events_app.extensions["events"].broadcaster.subscriptions == set()


def test_public_entries_need_no_session_check_and_keep_flowing(events_app, redis_client):
    response, chunks = open_stream(events_app)
    entry = {**private_entry(str(uuid.uuid4())), "action": "user:create", "public": True,
             "metadata": {"handle": "someone"}}
    publisher(redis_client)(entry)
    shown = json.loads(frame_of(chunks, entry).split(b"data: ", 1)[1])
    assert (shown["action"], shown["actor_ip"]) == ("user:create", None)
    response.close()
