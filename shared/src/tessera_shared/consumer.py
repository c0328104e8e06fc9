"""The event consumer: a consumer group's worker applying the stream's events, each once."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import redis as redis_py
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.background import BackgroundWorker
from tessera_shared.outbox import STREAM, Event, processed_events
from tessera_shared.transactions import unit_of_work

log = logging.getLogger(__name__)

Handler = Callable[[orm.Session, Event], None]


@dataclass(frozen=True)
class Timing:
    block_ms: int = 2000         # how long one read waits for new entries
    claim_idle_ms: int = 30_000  # after this, a silent member's unacknowledged entries are taken


class EventConsumer(BackgroundWorker):
    """Applies the stream's events in a consumer group, each exactly once."""

    thread_name = "event-consumer"

    def __init__(self, engine: sa.Engine, redis: redis_py.Redis, group: str,
                 handlers: Mapping[str, Handler], timing: Timing = Timing()) -> None:
        super().__init__()
        self.engine = engine
        self.redis = redis
        self.group = group
        # A name of its own in the group: a restarted or second worker is a new member, and
        # takes over what a silent one left unacknowledged.
        self.consumer = f"{group}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.handlers = dict(handlers)
        self.block_ms = timing.block_ms
        self.claim_idle_ms = timing.claim_idle_ms

    def ensure_group(self) -> None:
        """Create the group (reading from the stream's start) unless it exists."""
        try:
            self.redis.xgroup_create(STREAM, self.group, id="0", mkstream=True)
        except redis_py.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def apply(self, event: Event) -> bool:
        """Apply one event unless this group already did; True if it was applied now. An
        event the group has no handler for costs no transaction: there is nothing to apply,
        so nothing to remember (most events concern one or two groups; every login would
        otherwise write a row in every service's database)."""
        handler = self.handlers.get(event.type)
        if handler is None:
            return False
        with orm.Session(self.engine) as session:
            try:
                with unit_of_work(session):
                    done = session.execute(sa.select(processed_events.c.event_id).where(
                        processed_events.c.consumer_group == self.group,
                        processed_events.c.event_id == event.id)).first()
                    if done:
                        return False
                    handler(session, event)
                    session.execute(processed_events.insert().values(
                        consumer_group=self.group, event_id=event.id,
                        processed_at=datetime.now(UTC)))
            except sa.exc.IntegrityError:
                return False  # another consumer of this group applied it first
        return True

    def _entries(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        # Entries a crashed consumer of the group left unacknowledged come first.
        _next, claimed, _deleted = self.redis.xautoclaim(
            STREAM, self.group, self.consumer, self.claim_idle_ms, start_id="0-0", count=100)
        if claimed:
            return [entry for entry in claimed if entry[1]]
        response = self.redis.xreadgroup(self.group, self.consumer, {STREAM: ">"},
                                         count=100, block=self.block_ms)
        return response[0][1] if response else []

    def run_once(self) -> int:
        """Read and apply one batch; returns how many entries were handled."""
        try:
            entries = self._entries()
        except redis_py.ResponseError as error:
            if "NOGROUP" not in str(error):
                raise
            self.ensure_group()  # Redis lost the stream (restart without persistence)
            return 0
        for entry_id, fields in entries:
            self.apply(Event.from_stream(fields))
            self.redis.xack(STREAM, self.group, entry_id)
        return len(entries)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.ensure_group()
                while not self.stopping.is_set():
                    self.run_once()
            except (redis_py.RedisError, sa.exc.SQLAlchemyError) as error:
                log.warning("event consumer: will retry",
                            extra={"group": self.group, "error": str(error)})
                self.stopping.wait(1.0)
