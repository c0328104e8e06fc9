"""The action log: entries made from events, who may see what, and pages of it.

Privacy: anyone may read public entries, without the address they came from and with only
the harmless part of their metadata; every entry is shown in full to its actor, and all of
them to admins.
"""

from __future__ import annotations

import enum
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from events_service.catalog import CATALOG
from events_service.models import ActionLog, ActionLogClock
from tessera_shared.clock import rfc3339, utcnow
from tessera_shared.ids import uuid7_after, uuid7_floor
from tessera_shared.live import EVERY_ENTRY
from tessera_shared.outbox import Event
from tessera_shared.transactions import after_commit

PUBLIC_METADATA = frozenset({"handle", "display_name", "changed", "via", "followee_id"})


class ResourceType(enum.Enum):
    USER = "User"
    POST = "Post"


class Direction(enum.Enum):
    OLDER = "Older"
    NEWER = "Newer"


@dataclass(frozen=True)
class Viewer:
    """Who is reading: a signed-in user (maybe an admin), or nobody (`user_id` None)."""

    user_id: str | None
    admin: bool = False

    def sees_everything_of(self, entry: dict[str, Any]) -> bool:
        return self.admin or (self.user_id is not None and entry["actor_id"] == self.user_id)


@dataclass(frozen=True)
class Filters:
    user_id: str | None = None
    resource_id: str | None = None
    resource_type: ResourceType | None = None


def as_record(log: ActionLog) -> dict[str, Any]:
    """Everything stored about an entry (for the live stream; never shown as it is)."""
    return {"id": log.id, "action": log.action, "actor_id": log.actor_id,
            "actor_ip": log.actor_ip, "resource_type": log.resource_type,
            "resource_id": log.resource_id, "summary": log.summary,
            "metadata": json.loads(log.details) if log.details else None,
            "public": log.public, "created_at": rfc3339(log.created_at)}


def _inet(address: str | None) -> str | None:
    """The original shows addresses as PostgreSQL `inet`: `1.2.3.4/32`."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return f"{ip}/{ip.max_prefixlen}"


def shown(record: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The `ActionLogResponse` this viewer gets for an entry."""
    return render(record, full=viewer.sees_everything_of(record))


def render(record: dict[str, Any], *, full: bool) -> dict[str, Any]:
    """An entry as its actor sees it (`full`), or as everyone else does."""
    metadata = record["metadata"]
    if metadata is not None and not full:
        metadata = {k: v for k, v in metadata.items() if k in PUBLIC_METADATA} or None
    return {"id": record["id"], "action": record["action"], "actor_id": record["actor_id"],
            "actor_ip": _inet(record["actor_ip"]) if full else None,
            "resource_type": record["resource_type"], "resource_id": record["resource_id"],
            "summary": record["summary"], "metadata": metadata,
            "created_at": record["created_at"]}


# What the live stream matches entries by (tessera_shared.live): an entry's tags name its
# actor, resource and type; a stream requires the tags of its filters, and its viewer's tags
# earn the full frame.
def tags(record: dict[str, Any]) -> frozenset[str]:
    found = {EVERY_ENTRY, f"type:{record['resource_type']}"}
    if record["actor_id"] is not None:
        found.add(f"actor:{record['actor_id']}")
    if record["resource_id"] is not None:
        found.add(f"resource:{record['resource_id']}")
    return frozenset(found)


def required_tags(filters: Filters) -> frozenset[str]:
    found = set()
    if filters.user_id is not None:
        found.add(f"actor:{filters.user_id}")
    if filters.resource_id is not None:
        found.add(f"resource:{filters.resource_id}")
    if filters.resource_type is not None:
        found.add(f"type:{filters.resource_type.value}")
    return frozenset(found)


def full_view_tags(viewer: Viewer) -> frozenset[str]:
    """The tags of the entries this viewer sees in full (see `Viewer.sees_everything_of`)."""
    if viewer.admin:
        return frozenset({EVERY_ENTRY})
    return frozenset() if viewer.user_id is None else frozenset({f"actor:{viewer.user_id}"})


def record_event(session: orm.Session, event: Event,
                 publish: Callable[[dict[str, Any]], None]) -> None:
    """Store the entry an event makes (if any) and, once stored, announce it."""
    entry = CATALOG.get(event.type)
    if entry is None:
        return
    data = dict(event.data)
    actor, address = data.pop("user_id", None), data.pop("ip", None) or None
    last_id = session.scalar(sa.update(ActionLogClock).values(last_id=ActionLogClock.last_id)
                             .returning(ActionLogClock.last_id))  # locked until the commit
    entry_id = str(uuid7_after(last_id))
    session.execute(sa.update(ActionLogClock).values(last_id=entry_id))
    log = ActionLog(id=entry_id, event_id=event.id, action=entry.action, actor_id=actor,
                    actor_ip=address, resource_type=ResourceType.USER.value,
                    resource_id=actor, summary=entry.summary,
                    details=json.dumps(data) if data else None, public=entry.public,
                    created_at=event.occurred_at)
    session.add(log)
    session.flush()
    record = as_record(log)
    after_commit(session, lambda: publish(record))


def _where(viewer: Viewer, filters: Filters) -> list[sa.ColumnElement[bool]]:
    readable: sa.ColumnElement[bool] = ActionLog.public.is_(True)
    if viewer.admin:
        readable = sa.true()
    elif viewer.user_id is not None:
        readable = sa.or_(readable, ActionLog.actor_id == viewer.user_id)
    conditions = [readable]
    if filters.user_id is not None:
        conditions.append(ActionLog.actor_id == filters.user_id)
    if filters.resource_id is not None:
        conditions.append(ActionLog.resource_id == filters.resource_id)
    if filters.resource_type is not None:
        conditions.append(ActionLog.resource_type == filters.resource_type.value)
    return conditions


@dataclass(frozen=True)
class Window:
    """Which page to read: `limit` entries away from the entry `cursor`, towards `direction`
    (the newest page when there is no cursor)."""

    limit: int
    cursor: str | None = None
    direction: Direction = Direction.OLDER


@dataclass(frozen=True)
class Page:
    entries: list[ActionLog]
    has_newer: bool
    has_older: bool


def page(session: orm.Session, viewer: Viewer, filters: Filters, window: Window) -> Page:
    """Newest first; the window's cursor pages away from an entry, towards older or newer
    ones."""
    limit, cursor, direction = window.limit, window.cursor, window.direction
    where = _where(viewer, filters)
    query = sa.select(ActionLog).where(*where)
    if cursor is not None and direction is Direction.NEWER:
        entries = list(reversed(session.scalars(query.where(ActionLog.id > cursor)
                                                .order_by(ActionLog.id).limit(limit)).all()))
    else:
        if cursor is not None:
            query = query.where(ActionLog.id < cursor)
        entries = list(session.scalars(query.order_by(ActionLog.id.desc()).limit(limit)).all())

    def beyond(condition: sa.ColumnElement[bool]) -> bool:
        return bool(session.scalar(sa.select(sa.exists().where(*where, condition))))

    newest = entries[0].id if entries else cursor
    oldest = entries[-1].id if entries else cursor
    return Page(entries,
                has_newer=newest is not None and beyond(ActionLog.id > newest),
                has_older=oldest is not None and beyond(ActionLog.id < oldest))


def stored(session: orm.Session, entry_id: str) -> bool:
    return session.get(ActionLog, entry_id) is not None


# How far back a stream without a session may resume. A reconnect misses seconds or minutes;
# older history is GET /v0/action-logs, a page at a time. Unbounded, anyone holding the first
# entry's id could have the whole log replayed, again and again (pentest L7).
ANONYMOUS_REPLAY = timedelta(hours=1)


def replay(session: orm.Session, viewer: Viewer, filters: Filters, after: str,
           batch: int = 500) -> list[ActionLog]:
    """Entries after `after`, oldest first: what a reconnecting stream missed (for a viewer
    without a session, of the last ANONYMOUS_REPLAY only)."""
    if viewer.user_id is None:  # entry ids are UUIDv7: ordered by when they were made
        after = max(after, uuid7_floor(utcnow() - ANONYMOUS_REPLAY))
    return list(session.scalars(sa.select(ActionLog).where(*_where(viewer, filters),
                                                            ActionLog.id > after)
                                .order_by(ActionLog.id).limit(batch)).all())
