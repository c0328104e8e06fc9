"""Events between services: transactional outbox -> relay -> Redis Stream -> consumer groups.

* A service records an event with `emit()` in the same transaction as the change it describes,
  so an event exists if and only if the change was committed.
* `relay.OutboxRelay` (a background thread in each service worker) moves committed events to
  the stream `STREAM` and deletes them from the outbox. It wakes on every commit that emitted
  an event and otherwise polls; while Redis is away the events wait in the outbox.
* `consumer.EventConsumer` reads the stream in a consumer group, applies each event in its own
  unit of work together with a row in `processed_events`, then acknowledges. Delivery is at
  least once; applying is exactly once, because a second apply finds that row.

On the stream an entry has the fields `id` (UUIDv7), `type` (past tense, `user.registered`),
`source` (service), `occurred_at` (ISO 8601 UTC) and `data` (JSON object).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis as redis_py
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.ids import uuid7
from tessera_shared.transactions import NAMING_CONVENTION, after_commit

STREAM = "tessera:events"
STREAM_MAX_LENGTH = 1_000_000  # approximate; far beyond any consumer's lag

relay_wakeup = threading.Event()  # set by every commit that emitted; the relay waits on it

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


def emit(session: orm.Session | orm.scoped_session, event_type: str,
         data: dict[str, Any]) -> str:
    """Record an event in the session's transaction; it is published once that commits."""
    event_id = str(uuid7())
    session.execute(outbox.insert().values(
        id=event_id, type=event_type, data=json.dumps(data, default=str),
        occurred_at=datetime.now(UTC)))
    after_commit(session, relay_wakeup.set)
    return event_id


def read_stream(redis: redis_py.Redis, after: str = "-", count: int = 1000) -> list[Event]:
    """The stream's events after entry id `after` (exclusive), oldest first: for tests and tools."""
    start = after if after == "-" else f"({after}"
    return [Event.from_stream(fields) for _id, fields in redis.xrange(STREAM, start, count=count)]
