"""Transactions: the one place Tessera commits.

Every use case that writes runs in `unit_of_work(session)`: it commits once when the block
ends, rolls back if anything in it raises, and then runs the hooks the work registered
(`after_commit`: wake the outbox relay or the mail sender, publish to live subscribers, end
sessions in Redis; `after_rollback`: undo a saga's remote step). Domain code never commits;
a unit test fails the build if `commit()` appears anywhere else.

A record that must outlive the use case's rollback (a failed login, an abandoned sign-up) is
written by `record_failure`: in a short transaction of its own, once the use case's has ended
(so it never waits on that one's locks), and only there.

A leaf module: the outbox, the relay, the consumer and the database handle all import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import orm

# Stable constraint names, so Alembic migrations name things the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Hook = Callable[[], None]
_AFTER_COMMIT = "tessera.after_commit"
_AFTER_ROLLBACK = "tessera.after_rollback"
_FAILURES = "tessera.failures"
_DEPTH = "tessera.unit_of_work"


def after_commit(session: orm.Session | orm.scoped_session, hook: Hook) -> None:
    """Run `hook` once the session's unit of work has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(hook)


def after_rollback(session: orm.Session | orm.scoped_session, hook: Hook) -> None:
    """Run `hook` if the session's unit of work rolls back: the compensation of a step
    outside the database (a profile made in another service) that must not outlive it."""
    session.info.setdefault(_AFTER_ROLLBACK, []).append(hook)


def record_failure(session: orm.Session | orm.scoped_session,
                   write: Callable[[orm.Session], None]) -> None:
    """Have `write` add its records in a transaction of its own as soon as the session's
    unit of work ends (at once outside one), committed whether that one commits or rolls
    back: a failure the use case raises must still be remembered (a wrong password, a
    refused code, a sign-up whose compensation must wait)."""
    bind = session.get_bind()

    def record() -> None:
        with orm.Session(bind) as own, unit_of_work(own):
            write(own)

    if session.info.get(_DEPTH, 0):
        session.info.setdefault(_FAILURES, []).append(record)
    else:
        record()


@contextmanager
def unit_of_work(session: orm.Session | orm.scoped_session) -> Iterator[None]:
    """One transaction for one use case: committed on success, rolled back on any exception,
    hooks run after either. A unit of work inside another joins it, so two use cases can
    share one transaction and it is committed once, by the outermost."""
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
            _run(session, _AFTER_ROLLBACK, _FAILURES, forget=_AFTER_COMMIT)
        raise
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        _run(session, _AFTER_COMMIT, _FAILURES, forget=_AFTER_ROLLBACK)


def _run(session: orm.Session | orm.scoped_session, *keys: str, forget: str) -> None:
    session.info.pop(forget, None)
    for key in keys:
        for hook in session.info.pop(key, []):
            hook()
