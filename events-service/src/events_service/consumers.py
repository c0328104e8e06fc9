"""What events-service does with the platform's events: every type in the catalog becomes an
entry of the action log, published live once it is stored."""

from __future__ import annotations

from sqlalchemy import orm

from events_service import actions, catalog
from events_service.live import publisher
from tessera_shared.consumer import Handler
from tessera_shared.outbox import Event
from tessera_shared.platform import Platform


def handlers(platform: Platform) -> dict[str, Handler]:
    publish = publisher(platform.redis)

    def record(session: orm.Session, event: Event) -> None:
        actions.record_event(session, event, publish)

    return dict.fromkeys(catalog.CATALOG, record)
