"""The outbox, the relay and the consumer against a real Redis and a real database."""

import secrets
import threading
import time

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.consumer import EventConsumer, Timing
from tessera_shared.outbox import STREAM, emit, outbox, read_stream
from tessera_shared.relay import OutboxRelay
from tessera_shared.transactions import unit_of_work

APPLIED = sa.table("applied", sa.column("event_id"))


def pending(engine):
    with engine.connect() as connection:
        return connection.scalar(sa.select(sa.func.count()).select_from(outbox))


def emit_one(engine, event_type="thing.happened", **data):
    with orm.Session(engine) as session, unit_of_work(session):
        return emit(session, event_type, data)


def last_entry_id(redis_client):
    last = redis_client.xrevrange(STREAM, count=1)
    return last[0][0].decode() if last else "-"


def test_an_event_of_a_rolled_back_change_is_never_published(engine, redis_client):
    with orm.Session(engine) as session:
        emit(session, "thing.happened", {"n": 1})
        session.rollback()
    assert pending(engine) == 0


def test_the_relay_moves_committed_events_to_the_stream_in_order(engine, redis_client):
    mark = last_entry_id(redis_client)
    ids = [emit_one(engine, n=n) for n in range(3)]
    assert OutboxRelay(engine, redis_client, "test").publish_pending() == 3
    published = [e for e in read_stream(redis_client, after=mark) if e.id in ids]
    assert [e.id for e in published] == ids
    assert [e.data["n"] for e in published] == [0, 1, 2]
    assert published[0].source == "test"
    assert published[0].occurred_at.tzinfo is not None
    assert pending(engine) == 0


class PublishingMeanwhile:
    """A Redis whose pipelines, as they are sent, first let `other` relay run a pass: the
    other instance of the service, at work while this one publishes its batch."""

    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client
        self.other: OutboxRelay | None = None
        self.published_meanwhile: int | None = None

    def __getattr__(self, name: str):
        return getattr(self.redis, name)

    def pipeline(self, **options):
        pipe = self.redis.pipeline(**options)
        send = pipe.execute

        def execute():
            self.published_meanwhile = self.other.publish_pending()
            return send()

        pipe.execute = execute
        return pipe


def test_two_instances_relays_never_publish_one_event_twice(engine, redis_client):
    mark = last_entry_id(redis_client)
    ids = [emit_one(engine, n=n) for n in range(5)]
    meanwhile = PublishingMeanwhile(redis_client)
    other_engine = sa.create_engine(engine.url)  # another process's
    meanwhile.other = OutboxRelay(other_engine, redis_client, "test")
    try:
        published = OutboxRelay(engine, meanwhile, "test").publish_pending()
    finally:
        other_engine.dispose()
    assert published == 5
    assert meanwhile.published_meanwhile == 0
    assert [e.id for e in read_stream(redis_client, after=mark) if e.id in ids] == ids
    assert pending(engine) == 0


def test_events_wait_in_the_outbox_while_redis_is_away(engine, redis_client):
    emit_one(engine)
    gone = redis.Redis(port=1, socket_connect_timeout=0.2)
    with pytest.raises(redis.RedisError):
        OutboxRelay(engine, gone, "test").publish_pending()
    assert pending(engine) == 1
    assert OutboxRelay(engine, redis_client, "test").publish_pending() == 1


def test_a_running_relay_publishes_as_soon_as_the_change_commits(engine, redis_client):
    relay = OutboxRelay(engine, redis_client, "test", poll_seconds=60)
    relay.start()
    try:
        time.sleep(0.1)  # let the relay finish its first pass and go to sleep
        event_id = emit_one(engine)
        deadline = time.monotonic() + 10
        while not any(e.id == event_id for e in read_stream(redis_client, count=100_000)):
            assert time.monotonic() < deadline, "the relay never published the event"
            time.sleep(0.02)
    finally:
        relay.stop()


def consumer(engine, redis_client, group, *, claim_idle_ms=30_000):
    def record(session, event):
        session.execute(APPLIED.insert().values(event_id=event.id))

    return EventConsumer(engine, redis_client, group, {"thing.happened": record},
                         Timing(block_ms=100, claim_idle_ms=claim_idle_ms))


def applied(engine):
    with engine.connect() as connection:
        return set(connection.scalars(sa.select(APPLIED.c.event_id)))


def drain(worker):
    while worker.run_once():
        pass


def test_a_consumer_applies_each_event_once_even_when_delivered_twice(engine, redis_client):
    event_id = emit_one(engine)
    OutboxRelay(engine, redis_client, "test").publish_pending()
    worker = consumer(engine, redis_client, f"g-{secrets.token_hex(4)}")
    worker.ensure_group()
    drain(worker)
    assert event_id in applied(engine)
    redelivered = next(e for e in read_stream(redis_client, count=100_000) if e.id == event_id)
    assert worker.apply(redelivered) is False


def test_events_a_group_does_not_handle_are_acknowledged_without_a_transaction(engine,
                                                                            redis_client):
    event_id = emit_one(engine, "other.happened")
    OutboxRelay(engine, redis_client, "test").publish_pending()
    group = f"g-{secrets.token_hex(4)}"
    worker = consumer(engine, redis_client, group)
    worker.ensure_group()
    drain(worker)
    processed = sa.table("processed_events", sa.column("event_id"))
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(processed).where(
            processed.c.event_id == event_id)) == 0
    assert redis_client.xpending(STREAM, group)["pending"] == 0


def test_two_consumers_of_one_group_share_the_work_without_doubling_it(engine, redis_client):
    group = f"g-{secrets.token_hex(4)}"
    ids = {emit_one(engine) for _ in range(20)}
    OutboxRelay(engine, redis_client, "test").publish_pending()
    workers = [consumer(engine, redis_client, group) for _ in range(2)]
    workers[0].ensure_group()
    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ids <= applied(engine)


def test_what_a_crashed_consumer_left_unacknowledged_is_claimed_by_another(engine,
                                                                           redis_client):
    group = f"g-{secrets.token_hex(4)}"
    crashed = consumer(engine, redis_client, group)
    crashed.ensure_group()
    drain(crashed)  # catch up with older events first
    event_id = emit_one(engine)
    OutboxRelay(engine, redis_client, "test").publish_pending()
    assert redis_client.xreadgroup(group, crashed.consumer, {STREAM: ">"}, count=10)  # read, no ack
    survivor = consumer(engine, redis_client, group, claim_idle_ms=1)
    time.sleep(0.01)
    drain(survivor)
    assert event_id in applied(engine)
    assert redis_client.xpending(STREAM, group)["pending"] == 0


def test_a_consumer_recreates_its_group_when_redis_lost_the_stream(engine, redis_client):
    group = f"g-{secrets.token_hex(4)}"
    worker = consumer(engine, redis_client, group)
    worker.ensure_group()
    redis_client.xgroup_destroy(STREAM, group)
    assert worker.run_once() == 0
    assert any(g["name"].decode() == group for g in redis_client.xinfo_groups(STREAM))
