"""The outbox relay: committed events, oldest first, from a service's outbox to the stream."""

from __future__ import annotations

import contextlib
import logging

import redis as redis_py
import sqlalchemy as sa

from tessera_shared.background import BackgroundWorker
from tessera_shared.clock import as_utc
from tessera_shared.outbox import STREAM, STREAM_MAX_LENGTH, outbox, relay_wakeup

log = logging.getLogger(__name__)
REPLICA_WAIT_MS = 2000
LOCK_PREFIX = "tessera:relay:"
LOCK_SECONDS = 30  # far longer than a pass takes (a read, one pipeline, a WAIT, one delete)


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
        """One pass: publish up to `batch` events; returns how many went out.

        One relay of a service publishes at a time, under a lock in Redis that runs out should
        its holder die: so the instances of a service do not publish the same events side by
        side, and events go out oldest first. A pass that outlives its lock (Redis stalled
        for half a minute) may see another publish part of its batch again, which consumers
        ignore; on PostgreSQL the other waits for the rows this one holds. (A database lock
        alone would do on PostgreSQL; on SQLite it is the whole database's, and held while
        publishing it would stop every request of a gevent worker that waits for it, the
        waiting being outside gevent's reach.)"""
        lock = self.redis.lock(f"{LOCK_PREFIX}{self.source}", timeout=LOCK_SECONDS,
                               blocking=False)
        if not lock.acquire():
            return 0  # another instance's relay is at it
        try:
            return self._publish_batch()
        finally:
            with contextlib.suppress(redis_py.exceptions.LockError):  # it ran out meanwhile
                lock.release()

    def _publish_batch(self) -> int:
        with self.engine.begin() as connection:
            rows = connection.execute(
                sa.select(outbox).order_by(outbox.c.id).limit(self.batch)
                .with_for_update()).all()
            if not rows:
                return 0
            pipe = self.redis.pipeline(transaction=False)
            for row in rows:
                pipe.xadd(STREAM, {
                    "id": row.id, "type": row.type, "source": self.source,
                    "occurred_at": as_utc(row.occurred_at).isoformat(), "data": row.data,
                }, maxlen=STREAM_MAX_LENGTH, approximate=True)
            pipe.execute()
            self._wait_for_replicas()
            # Published but not yet deleted (a crash right here) means published again:
            # consumers apply by event id, so a duplicate changes nothing.
            connection.execute(outbox.delete().where(
                outbox.c.id.in_([row.id for row in rows])))
            return len(rows)

    def _wait_for_replicas(self) -> None:
        """Keep the batch in the outbox until a replica of the master has it too: Sentinel
        promotes the replica that has the most of the master's writes, which then holds
        every event the outbox let go of. With no replica connected there is none to
        promote, and nothing to wait for; one replica lagging behind the others holds
        nothing up."""
        if not int(self.redis.info("replication").get("connected_slaves", 0)):
            return
        if self.redis.wait(1, REPLICA_WAIT_MS) < 1:
            raise redis_py.RedisError("no Redis replica acknowledged the batch in time")

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
            relay_wakeup.wait(backoff)
            relay_wakeup.clear()

    def wake(self) -> None:
        relay_wakeup.set()
