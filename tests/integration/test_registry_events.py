"""registry-service's part in deleting a user, whichever service the deletion started in."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from registry_service import consumers
from registry_service.models import Keyholder, db
from tessera_shared.outbox import Event


def test_user_deleted_erases_the_keys_and_applying_it_twice_changes_nothing():
    engine = sa.create_engine("sqlite://")
    db.metadata.create_all(engine, tables=[Keyholder.__table__])
    deleted = Event(id="e1", type="user.deleted", source="auth",
                    occurred_at=datetime.now(UTC), data={"user_id": "u1"})
    with orm.Session(engine) as session:
        session.add(Keyholder(user_id="u1", number=1, public_key="k", token_digest="t",
                              iota_id="i", sub_level=0))
        session.add(Keyholder(user_id="u2", number=2, public_key="k", token_digest="t2",
                              iota_id="i", sub_level=0))
        session.commit()
        for _ in range(2):
            consumers.user_deleted(session, deleted)
            session.commit()
        assert session.scalars(sa.select(Keyholder.user_id)).all() == ["u2"]
