"""Events between services: transactional outbox -> relay -> Redis Stream -> consumer groups.

* A service records an event with `emit()` in the same transaction as the change it describes,
  so an event exists if and only if the change was committed.
* `OutboxRelay` (a background thread in each service worker) moves committed events to the
  stream `STREAM` and deletes them from the outbox. It wakes on every commit that emitted an
  event and otherwise polls; while Redis is away the events wait in the outbox.
* `EventConsumer` reads the stream in a consumer group, applies each event in its own database
  transaction together with a row in `processed_events`, commits, then acknowledges. Delivery
  is at least once; applying is exactly once, because a second apply finds that row.

On the stream an entry has the fields `id` (UUIDv7), `type` (past tense, `user.registered`),
`source` (service), `occurred_at` (ISO 8601 UTC) and `data` (JSON object).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis as redis_py
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.background import BackgroundWorker
from tessera_shared.clock import as_utc
from tessera_shared.db import NAMING_CONVENTION, after_commit
from tessera_shared.ids import uuid7

STREAM = "tessera:events"
STREAM_MAX_LENGTH = 1_000_000  # approximate; far beyond any consumer's lag

log = logging.getLogger(__name__)
_relay_wakeup = threading.Event()

_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
outbox = sa.Table(
    "outbox", _metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
)
processed_events = sa.Table(
    "processed_events", _metadata,
    sa.Column("consumer_group", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
)


def declare_tables(metadata: sa.MetaData) -> None:
    """Add the outbox tables to a service's metadata, so its migrations are checked against them."""
    for table in (outbox, processed_events):
        table.to_metadata(metadata)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    occurred_at: datetime
    data: dict[str, Any]

    @classmethod
    def from_stream(cls, fields: Mapping[bytes, bytes]) -> Event:
        return cls(
            id=fields[b"id"].decode(), type=fields[b"type"].decode(),
            source=fields[b"source"].decode(),
            occurred_at=datetime.fromisoformat(fields[b"occurred_at"].decode()),
            data=json.loads(fields[b"data"]))


def emit(session: orm.Session, event_type: str, data: dict[str, Any]) -> str:
    """Record an event in the session's transaction; it is published once that commits."""
    event_id = str(uuid7())
    session.execute(outbox.insert().values(
        id=event_id, type=event_type, data=json.dumps(data, default=str),
        occurred_at=datetime.now(UTC)))
    after_commit(session, _relay_wakeup.set)
    return event_id


class OutboxRelay(BackgroundWorker):
    """Publishes committed outbox rows to the stream, oldest first."""

    thread_name = "outbox-relay"

    def __init__(self, engine: sa.Engine, redis: redis_py.Redis, source: str,
                 *, batch: int = 200, poll_seconds: float = 1.0) -> None:
        super().__init__()
        self.engine = engine
        self.redis = redis
        self.source = source
        self.batch = batch
        self.poll_seconds = poll_seconds

    def publish_pending(self) -> int:
        """One pass: publish up to `batch` events; returns how many went out."""
        with self.engine.begin() as connection:
            rows = connection.execute(
                sa.select(outbox).order_by(outbox.c.id).limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            if not rows:
                return 0
            pipe = self.redis.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(STREAM, {
                    "id": row.id, "type": row.type, "source": self.source,
                    "occurred_at": as_utc(row.occurred_at).isoformat(), "data": row.data,
                }, maxlen=STREAM_MAX_LENGTH, approximate=True)
            pipe.execute()
            # Published but not yet deleted (a crash right here) means published again:
            # consumers apply by event id, so a duplicate changes nothing.
            connection.execute(outbox.delete().where(
                outbox.c.id.in_([row.id for row in rows])))
            return len(rows)

    def run(self) -> None:
        backoff = self.poll_seconds
        while not self.stopping.is_set():
            try:
                while self.publish_pending() == self.batch:
                    pass
                backoff = self.poll_seconds
            except (redis_py.RedisError, sa.exc.SQLAlchemyError) as error:
                log.warning("outbox relay: will retry", extra={"error": str(error)})
                backoff = min(backoff * 2, 10.0)
            _relay_wakeup.wait(backoff)
            _relay_wakeup.clear()

    def wake(self) -> None:
        _relay_wakeup.set()


Handler = Callable[[orm.Session, Event], None]


class EventConsumer(BackgroundWorker):
    """Applies the stream's events in a consumer group, each exactly once."""

    thread_name = "event-consumer"

    def __init__(self, engine: sa.Engine, redis: redis_py.Redis, group: str, consumer: str,
                 handlers: Mapping[str, Handler], *, block_ms: int = 2000,
                 claim_idle_ms: int = 30_000) -> None:
        super().__init__()
        self.engine = engine
        self.redis = redis
        self.group = group
        self.consumer = consumer
        self.handlers = dict(handlers)
        self.block_ms = block_ms
        self.claim_idle_ms = claim_idle_ms

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
                with session.begin():
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


def read_stream(redis: redis_py.Redis, after: str = "-", count: int = 1000) -> list[Event]:
    """The stream's events after entry id `after` (exclusive), oldest first: for tests and tools."""
    start = after if after == "-" else f"({after}"
    return [Event.from_stream(fields) for _id, fields in redis.xrange(STREAM, start, count=count)]
