"""A held stream's writer (gateway.live.LiveStream) with an honest fake feed: what it sends,
and when it reads the session again. The real thing runs in tests/integration."""

from __future__ import annotations

import uuid

import pytest

from gateway import live
from gateway.live import LiveStream, Reader, Subscription
from tessera_shared.live import EVERY_ENTRY, Entry, Handoff, Viewer
from tessera_shared.sessions import SessionRecord


class Sessions:
    def __init__(self) -> None:
        self.signed_in = True
        self.reads = 0

    def read(self, token: str | None, *, refresh: bool = True) -> SessionRecord | None:
        assert not refresh  # an open tab alone must not keep a session alive
        self.reads += 1
        if not self.signed_in:
            return None
        return SessionRecord("s", "ann", 0, 0, 0, 0, remember_me=False, ip="", user_agent="")


class Feed:
    def __init__(self) -> None:
        self.sessions = Sessions()
        self.unsubscribed: list[Subscription] = []

    def unsubscribe(self, subscription: Subscription) -> None:
        self.unsubscribed.append(subscription)


def entry(*tags: str, public: bool = True) -> Entry:
    entry_id = str(uuid.uuid4())
    return Entry(entry_id, frozenset({EVERY_ENTRY, *tags}), f"full {entry_id}\n\n".encode(),
                 f"public {entry_id}\n\n".encode() if public else None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: now[0])
    return now


def open_stream(feed: Feed, after: str | None = None) -> tuple[Subscription, object, LiveStream]:
    subscription = Subscription()
    handoff = Handoff(after, False, frozenset(), frozenset({"actor:ann"}), Viewer("ann", "user"))
    stream = LiveStream(feed, subscription, (handoff, b"replayed\n\n"), lambda _: None,
                        Reader("token", None))
    body = iter(stream)
    assert next(body) == b": connected\n\nreplayed\n\n"
    return subscription, body, stream


def test_a_busy_stream_ends_within_a_keep_alive_of_a_sign_out(clock):
    feed = Feed()
    subscription, body, stream = open_stream(feed)
    first = entry()
    subscription.offer(first)
    assert next(body) == first.public
    feed.sessions.signed_in = False
    clock[0] += live.KEEP_ALIVE_SECONDS - 1
    subscription.offer(second := entry())
    assert next(body) == second.public  # public entries need no read each time
    assert feed.sessions.reads == 0
    clock[0] += 2
    subscription.offer(entry())
    with pytest.raises(StopIteration):
        next(body)
    stream.close()
    assert feed.unsubscribed == [subscription]


def test_a_full_frame_is_sent_only_after_the_session_is_read(clock):
    feed = Feed()
    subscription, body, _ = open_stream(feed)
    own = entry("actor:ann", public=False)
    subscription.offer(own)
    assert next(body) == own.full
    assert feed.sessions.reads == 1
    feed.sessions.signed_in = False
    subscription.offer(entry("actor:ann", public=False))
    with pytest.raises(StopIteration):
        next(body)


def test_entries_that_came_together_go_out_together_and_the_replayed_are_skipped(clock):
    def numbered(n: int, *, public: bool = True) -> Entry:
        return Entry(f"{n:08d}", frozenset({EVERY_ENTRY}), b"full\n\n",
                     f"public {n}\n\n".encode() if public else None)

    feed = Feed()
    subscription, body, _ = open_stream(feed, after=numbered(5).id)
    for n in (4, 5, 6, 7):
        subscription.offer(numbered(n))
    subscription.offer(numbered(8, public=False))
    assert next(body) == b"public 6\n\npublic 7\n\n"
