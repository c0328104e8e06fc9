"""Live entries for the SSE streams: one Redis subscription per worker, fanned out to a
bounded queue per connected stream (perf-notes G10: never one subscription per client)."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import redis as redis_py

from tessera_shared.background import BackgroundWorker

CHANNEL = "tessera:action_logs"
QUEUE_LIMIT = 1000  # a stream this far behind is cut; its client reconnects and replays

log = logging.getLogger(__name__)


def publisher(redis: redis_py.Redis) -> Any:
    def publish(record: dict[str, Any]) -> None:
        try:
            redis.publish(CHANNEL, json.dumps(record))
        except redis_py.RedisError as error:
            # Stored all the same: streams that miss it get it on their next replay.
            log.warning("live publish failed", extra={"error": str(error)})
    return publish


class LiveEntry:
    """One published entry, shared by every stream of the worker. Its SSE frames are made at
    most twice (the actor's full view, everyone else's), not once per subscriber."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self._frames: dict[bool, bytes] = {}

    def frame(self, full: bool, render: Callable[[bool], bytes]) -> bytes:
        if full not in self._frames:
            self._frames[full] = render(full)
        return self._frames[full]


class Subscription:
    def __init__(self) -> None:
        self.entries: queue.Queue[LiveEntry] = queue.Queue(QUEUE_LIMIT)
        self.overflowed = False


class Broadcaster(BackgroundWorker):
    thread_name = "live-broadcaster"

    def __init__(self, redis: redis_py.Redis) -> None:
        super().__init__()
        self.redis = redis
        self.subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        with self._lock:
            self.subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self.subscriptions.discard(subscription)

    def _deliver(self, record: dict[str, Any]) -> None:
        entry = LiveEntry(record)
        with self._lock:
            subscriptions = list(self.subscriptions)
        for subscription in subscriptions:
            try:
                subscription.entries.put_nowait(entry)
            except queue.Full:
                subscription.overflowed = True

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None:
                        self._deliver(json.loads(message["data"]))
            except redis_py.RedisError as error:
                log.warning("live subscription lost; resubscribing", extra={"error": str(error)})
                self.stopping.wait(1.0)
