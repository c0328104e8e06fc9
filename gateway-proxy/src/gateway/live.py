"""The live action-log streams, held at the edge: one Redis subscription per gateway worker
(perf-notes G10), fanned out to a bounded queue per open stream, each written by its own
greenlet. events-service decides what each stream gets (`tessera_shared.live`); nothing here
knows what an entry says or who may read it.

Anonymous streams, the many, take a shorter way while their reader keeps up: the feed writes
each entry's public frame, framed once as a chunk of the response gunicorn began, straight to
their sockets (one non-blocking write each), with no greenlet woken per delivery. A write the
socket does not take whole hands the rest, and the stream, back to the stream's own writer.

A stream that falls `QUEUE_LIMIT` entries behind (a slow reader) is ended rather than allowed
to hold the others back or grow without bound; its client reconnects with `Last-Event-ID` and
events-service replays what it missed. Losing the Redis subscription ends every stream for the
same reason: entries published meanwhile would otherwise be skipped in silence.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import redis as redis_py
from prometheus_client import Gauge

from tessera_shared import redis as tessera_redis
from tessera_shared.background import BackgroundWorker
from tessera_shared.config import RedisLocation
from tessera_shared.live import CHANNEL, KEEP_ALIVE_SECONDS, Entry, Handoff
from tessera_shared.sessions import SessionStore

QUEUE_LIMIT = 1000
SUBSCRIBE_WAIT = 5.0  # seconds a first stream waits for the worker's subscription

log = logging.getLogger(__name__)

OPEN_STREAMS = Gauge("tessera_gateway_live_streams", "Live streams held open",
                     multiprocess_mode="livesum")


class FeedUnavailableError(Exception):
    """The worker could not subscribe to the live channel (Redis is down)."""


@dataclass(frozen=True)
class Reader:
    """Who holds a stream open: their session cookie, and the socket gunicorn's gevent
    worker answers them on in chunks, in the clear (None elsewhere, for HTTP/1.0 or over
    TLS: no direct writes then)."""

    token: str | None
    socket: socket.socket | None


@dataclass(frozen=True)
class Direct:
    """What the feed needs to write an anonymous stream's entries itself."""

    fd: int  # the reader's socket, non-blocking
    required: frozenset[str]
    after: str | None


def chunk(frame: bytes) -> bytes:
    """A frame as one chunk of a chunked response (RFC 9112 7.1), as gunicorn writes them."""
    return b"%X\r\n%s\r\n" % (len(frame), frame)


class Subscription:
    """A stream's entries not yet written, and what wakes its writer: a deque and an event,
    the cheapest hand-over between the feed and the writer's greenlet (a `queue.Queue` costs
    a lock and a condition per entry, once per subscriber)."""

    def __init__(self) -> None:
        self.entries: deque[Entry] = deque()
        self.arrived = threading.Event()
        self.ended = False  # behind by a full queue, or the feed lost its subscription
        self.direct: Direct | None = None  # set while the feed writes to the reader itself
        self.backlog = b""  # the end of a direct write the reader's socket did not take

    def offer(self, entry: Entry) -> None:
        if len(self.entries) >= QUEUE_LIMIT:
            self.end()
            return
        self.entries.append(entry)
        self.arrived.set()

    def write(self, direct: Direct, data: bytes) -> None:
        """One direct write; whatever the socket does not take goes to the stream's writer."""
        try:
            sent = os.write(direct.fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:  # the reader has gone
            self.direct = None
            self.end()
            return
        if sent < len(data):
            self.direct, self.backlog = None, data[sent:]
            self.arrived.set()

    def end(self) -> None:
        self.ended = True
        self.arrived.set()

    def wait(self, timeout: float) -> list[Entry] | None:
        """What arrived, oldest first, once anything has (maybe nothing: a backlog or the
        end); None if `timeout` passed first."""
        if not self.entries and not self.arrived.wait(timeout):
            return None
        self.arrived.clear()  # before taking, so that an entry offered meanwhile sets it again
        taken = []
        while self.entries:
            taken.append(self.entries.popleft())
        return taken


class LiveFeed(BackgroundWorker):
    """This worker's one subscription to the live channel, started by its first stream (after
    gunicorn has forked the worker)."""

    thread_name = "live-feed"

    def __init__(self, redis: RedisLocation) -> None:
        super().__init__()
        self.redis = tessera_redis.connect(redis)
        self.sessions = SessionStore(self.redis)
        self.subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()

    def subscribe(self) -> Subscription:
        """A new stream's queue; raises FeedUnavailableError if the channel cannot be reached."""
        with self._lock:
            if self._thread is None:
                self.start()
        if not self._subscribed.wait(SUBSCRIBE_WAIT):
            raise FeedUnavailableError
        subscription = Subscription()
        with self._lock:
            self.subscriptions.add(subscription)
        OPEN_STREAMS.inc()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription not in self.subscriptions:
                return
            self.subscriptions.discard(subscription)
        OPEN_STREAMS.dec()

    def _deliver(self, raw: bytes) -> None:
        try:
            entry = Entry.decode(raw)
        except ValueError as error:
            log.warning("ignored on the live channel", extra={"error": str(error)})
            return
        with self._lock:
            subscriptions = list(self.subscriptions)
        framed = None  # the public frame as a chunk, made once for every direct write
        for subscription in subscriptions:
            direct = subscription.direct
            if direct is None:
                subscription.offer(entry)
            elif entry.public is not None and direct.required <= entry.tags and (
                    direct.after is None or entry.id > direct.after):
                framed = framed or chunk(entry.public)
                subscription.write(direct, framed)

    def _end_every_stream(self) -> None:
        self._subscribed.clear()
        with self._lock:
            subscriptions = list(self.subscriptions)
        for subscription in subscriptions:
            subscription.end()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                pubsub = self.redis.pubsub()
                pubsub.subscribe(CHANNEL)
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._subscribed.set()
                    elif message["type"] == "message":
                        self._deliver(message["data"])
            except redis_py.RedisError as error:
                log.warning("live subscription lost; resubscribing", extra={"error": str(error)})
                self._end_every_stream()
                self.stopping.wait(1.0)


class LiveStream:
    """The body of one held stream: the replay events-service sent, its further pages, then
    every live entry the handoff admits, with a keep-alive comment when it is quiet."""

    def __init__(self, feed: LiveFeed, subscription: Subscription, first: tuple[Handoff, bytes],
                 next_page: Callable[[str], tuple[Handoff, bytes] | None],
                 reader: Reader) -> None:
        self.feed = feed
        self.subscription = subscription
        self.handoff, self.replay = first
        self.next_page = next_page
        self.reader = reader
        self._checked_at = time.monotonic()  # events-service read the session just now

    def _holds(self) -> bool:
        """The session the stream opened with is still live, with the same rights."""
        viewer = self.handoff.viewer
        if viewer is None:
            return True
        self._checked_at = time.monotonic()
        # Without refreshing it: an open tab alone must not keep a session alive.
        return viewer.holds(self.feed.sessions.read(self.reader.token, refresh=False))

    def _still_holds(self) -> bool:
        """`_holds`, asked at most once a keep-alive interval: a busy stream of public
        entries ends within that of a sign-out too, not only a quiet one."""
        due = time.monotonic() - self._checked_at >= KEEP_ALIVE_SECONDS
        return not due or self._holds()

    def _direct(self, handoff: Handoff) -> Direct | None:
        """How the feed may write this stream itself: only an anonymous one (no session to
        check, public frames only), on a non-blocking socket."""
        sock = self.reader.socket
        if handoff.viewer is not None or handoff.full_with or sock is None:
            return None
        fd = sock.fileno()
        return None if os.get_blocking(fd) else Direct(fd, handoff.required, handoff.after)

    def __iter__(self) -> Iterator[bytes]:
        handoff, subscription = self.handoff, self.subscription
        yield b": connected\n\n" + self.replay
        while handoff.more and handoff.after is not None:
            if (following := self.next_page(handoff.after)) is None:
                return  # the service could not go on: the client reconnects from where it got
            handoff, page = following
            yield page
        after, direct = handoff.after, self._direct(handoff)
        try:
            while not subscription.ended:
                if direct is not None and not subscription.entries:
                    subscription.direct = direct  # nothing queued: later entries stay in order
                arrived = subscription.wait(KEEP_ALIVE_SECONDS)
                subscription.direct = None  # this writer writes now; the feed queues meanwhile
                if subscription.backlog and self.reader.socket is not None:
                    backlog, subscription.backlog = subscription.backlog, b""
                    self.reader.socket.sendall(backlog)  # already a whole chunk
                if arrived is None:  # quiet for a while
                    if not self._holds():
                        return
                    yield b": keep-alive\n\n"
                    continue
                if not self._still_holds():
                    return
                frames, holds = self._frames(arrived, handoff, after)
                if frames:
                    yield frames  # entries that came together go out in one write
                if not holds:
                    return  # the client reconnects, and reads as whoever it now is
        finally:
            subscription.direct = None  # the socket may serve another request, or close

    def _frames(self, arrived: list[Entry], handoff: Handoff,
                after: str | None) -> tuple[bytes, bool]:
        """The frames this stream sends for entries that arrived together, and whether its
        session still holds (read once, before the first full frame; none is sent if not)."""
        frames: list[bytes] = []
        checked = False
        for entry in arrived:
            if (after is not None and entry.id <= after) or (shown := handoff.view(entry)) is None:
                continue
            frame, full = shown
            if full and not checked:
                if not self._holds():
                    return b"".join(frames), False
                checked = True
            frames.append(frame)
        return b"".join(frames), True

    def close(self) -> None:
        self.subscription.direct = None
        self.feed.unsubscribe(self.subscription)
