"""Live entries: each stored entry rendered once per audience and published for the gateway,
which holds the streams and fans them out (the contract is `tessera_shared.live`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis as redis_py

from events_service import actions
from tessera_shared.live import CHANNEL, Entry

log = logging.getLogger(__name__)


def frame(shown: dict[str, Any]) -> bytes:
    """An entry, as a reader is shown it, as an SSE event."""
    return (f"event: action_log\nid: {shown['id']}\n"
            f"data: {json.dumps(shown, separators=(',', ':'))}\n\n").encode()


def entry(record: dict[str, Any]) -> Entry:
    return Entry(record["id"], actions.tags(record), frame(actions.render(record, full=True)),
                 frame(actions.render(record, full=False)) if record["public"] else None)


def publisher(redis: redis_py.Redis) -> Callable[[dict[str, Any]], None]:
    def publish(record: dict[str, Any]) -> None:
        try:
            redis.publish(CHANNEL, entry(record).encode())
        except redis_py.RedisError as error:
            # Stored all the same: streams that miss it get it on their next replay.
            log.warning("live publish failed", extra={"error": str(error)})
    return publish
