"""The step every sign-up saga starts with, whichever service owns the account (auth for
passwords, registry for keys): the profile in user-service, which owns handles and so settles
a race for one."""

from __future__ import annotations

import logging

from sqlalchemy import orm

from tessera_shared.clients.profiles import NewProfile, Profiles
from tessera_shared.outbox import emit
from tessera_shared.transactions import after_rollback, record_failure

log = logging.getLogger(__name__)


def reserve_profile(session: orm.Session | orm.scoped_session, profiles: Profiles,
                    new: NewProfile) -> None:
    """Make the profile now; remove it again if the sign-up's unit of work rolls back. When
    user-service cannot be reached then, the removal is left to the event stream
    (`user.registration_abandoned`), so the profile goes away once it can."""
    profiles.create(new)
    user_id = new.id

    def abandon() -> None:
        if profiles.delete(user_id):
            return
        log.warning("sign-up compensation deferred to the event stream",
                    extra={"user_id": user_id})
        record_failure(session, lambda own: emit(own, "user.registration_abandoned",
                                                 {"user_id": user_id}))

    after_rollback(session, abandon)
