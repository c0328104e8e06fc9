"""The action log through the gateway: the original's listing and stream, and privacy."""

from __future__ import annotations

import json
import time

import requests

from tests.e2e.conftest import new_user, signed_in


def listing(platform, client=None, **params):
    answer = (client or requests).get(f"{platform.url}/v0/action-logs",
                                      params={"limit": 100, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def eventually(fetch, check, timeout=15):
    deadline = time.monotonic() + timeout
    while not check(value := fetch()):
        assert time.monotonic() < deadline, f"never: {value}"
        time.sleep(0.1)
    return value


def actions_of(page):
    return [entry["action"] for entry in page["data"]]


def test_anonymous_readers_see_public_entries_without_addresses(platform):
    _, _, user_id = signed_in(platform)
    page = eventually(lambda: listing(platform, user_id=user_id),
                      lambda p: "user:create" in actions_of(p))
    assert "auth:login" not in actions_of(page)
    (created,) = page["data"]
    assert created["actor_ip"] is None
    assert set(created) == {"id", "action", "actor_id", "actor_ip", "resource_type",
                            "resource_id", "summary", "metadata", "created_at"}
    assert created["resource_type"] == "User"


def test_users_see_their_own_security_entries_in_full(platform):
    _, client, user_id = signed_in(platform)
    page = eventually(lambda: listing(platform, client, user_id=user_id),
                      lambda p: {"user:create", "auth:login"} <= set(actions_of(p)))
    login = next(e for e in page["data"] if e["action"] == "auth:login")
    assert login["actor_ip"] == client.headers["X-Forwarded-For"] + "/32"
    _, stranger, _ = signed_in(platform)
    assert "auth:login" not in actions_of(listing(platform, stranger, user_id=user_id))


def test_pages_go_older_and_newer_by_cursor_newest_first(platform):
    _, client, user_id = signed_in(platform)
    client.patch(f"{platform.url}/v0/user/me", json={"bio": "one"})
    client.patch(f"{platform.url}/v0/user/me", json={"bio": "two"})
    everything = eventually(lambda: listing(platform, client, user_id=user_id),
                            lambda p: len(p["data"]) >= 4)["data"]
    ids = [entry["id"] for entry in everything]
    assert ids == sorted(ids, reverse=True)
    first = listing(platform, client, user_id=user_id, limit=2)
    assert (first["has_newer"], first["has_older"]) == (False, True)
    older = listing(platform, client, user_id=user_id, limit=2,
                    cursor_id=first["data"][-1]["id"], cursor_direction="Older")
    assert [e["id"] for e in older["data"]] == ids[2:4]
    assert older["has_newer"] is True
    newer = listing(platform, client, user_id=user_id, limit=2,
                    cursor_id=older["data"][0]["id"], cursor_direction="Newer")
    assert [e["id"] for e in newer["data"]] == ids[:2]


def read_events(response, wanted: int, timeout: float = 20) -> list[dict]:
    """Parse SSE frames until `wanted` action_log events arrived."""
    events, buffer, deadline = [], b"", time.monotonic() + timeout
    for chunk in response.iter_content(chunk_size=None):
        buffer += chunk
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            fields = dict(line.split(": ", 1) for line in frame.decode().splitlines()
                          if not line.startswith(":"))
            if fields.get("event") == "action_log":
                assert fields["id"] == json.loads(fields["data"])["id"]
                events.append(json.loads(fields["data"]))
        if len(events) >= wanted or time.monotonic() > deadline:
            break
    return events


def read_until_someone_signs_up(platform, stream):
    """Sign a new user up and read the stream until their sign-up arrives; all read."""
    user = new_user()
    requests.post(f"{platform.url}/v0/users", json=user)
    seen = []
    while not any((e["metadata"] or {}).get("handle") == user["handle"] for e in seen):
        batch = read_events(stream, 1)
        assert batch, "the stream went quiet"
        seen += batch
    return seen


def test_the_stream_delivers_new_entries_live(platform):
    with requests.get(f"{platform.url}/v0/eventstream/actions", stream=True,
                      timeout=30) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        seen = read_until_someone_signs_up(platform, stream)
    assert all(e["actor_ip"] is None for e in seen)  # anonymous stream: public, no addresses


def test_a_reconnecting_stream_gets_what_it_missed_in_order_and_once(platform):
    _, client, user_id = signed_in(platform)
    start = eventually(lambda: listing(platform, client, user_id=user_id),
                       lambda p: len(p["data"]) >= 2)["data"][0]["id"]
    for bio in ("missed one", "missed two", "missed three"):
        client.patch(f"{platform.url}/v0/user/me", json={"bio": bio})
    missed = eventually(lambda: listing(platform, client, user_id=user_id),
                        lambda p: sum(e["action"] == "user:edit" for e in p["data"]) >= 3)
    expected = sorted(e["id"] for e in missed["data"] if e["id"] > start)
    with client.get(f"{platform.url}/v0/eventstream/actions", params={"user_id": user_id},
                    headers={"Last-Event-ID": start}, stream=True, timeout=30) as stream:
        replayed = read_events(stream, len(expected))
    assert [e["id"] for e in replayed] == expected


def test_a_garbled_last_event_id_is_ignored_not_obeyed(platform):
    with requests.get(f"{platform.url}/v0/eventstream/actions", stream=True, timeout=30,
                      headers={"Last-Event-ID": "zzz-not-an-id"}) as stream:
        read_until_someone_signs_up(platform, stream)  # live entries still arrive
