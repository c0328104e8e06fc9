"""The live action-log stream in a real events-service app and Redis: what it hands over to the
gateway (whose side is test_gateway_live.py), and what it publishes for it."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from flask import Flask

import events_service
from events_service import actions
from events_service.live import publisher
from events_service.models import ActionLog, db
from tessera_shared.config import Settings
from tessera_shared.live import CHANNEL, EVERY_ENTRY, HANDOFF_HEADER, Entry, Handoff, Viewer
from tessera_shared.migrations import upgrade
from tessera_shared.outbox import Event
from tessera_shared.platform import platform
from tessera_shared.sessions import Client


@pytest.fixture
def events_app(service_env: dict[str, str]) -> Flask:
    settings = Settings.from_env("events", service_env)
    upgrade(settings)
    return events_service.create_app(settings)


def sign_in(app, user_id: str, role: str = "user") -> str:
    with app.app_context():
        token, _ = platform().sessions.create(user_id, Client("10.0.0.1", "test"),
                                              remember_me=False, role=role)
    return token


def open_stream(app, token: str | None = None, query: str = "", **headers: str):
    client = app.test_client()
    if token:
        client.set_cookie("session_id", token)
    return client.get(f"/v0/eventstream/actions{query}", headers=headers)


def handoff_of(response) -> Handoff:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/event-stream")
    return Handoff.decode(response.headers[HANDOFF_HEADER])


def store(app, count: int) -> list[str]:
    """Ids of `count` public entries, stored as the consumer stores them, oldest first."""
    with app.app_context():
        for _ in range(count):
            event = Event(str(uuid.uuid4()), "user.registered", "user", datetime.now(UTC),
                          {"user_id": str(uuid.uuid4()), "handle": "someone"})
            actions.record_event(db.session, event, lambda record: None)
            db.session.commit()
        return list(db.session.scalars(sa.select(ActionLog.id).order_by(ActionLog.id)))


def test_an_anonymous_stream_gets_public_frames_and_no_session_to_hold(events_app):
    handoff = handoff_of(open_stream(events_app))
    assert (handoff.after, handoff.more, handoff.viewer) == (None, False, None)
    assert handoff.full_with == frozenset()
    assert handoff.required == frozenset()


def test_a_signed_in_stream_sees_its_own_entries_in_full_while_its_session_holds(events_app):
    user_id = str(uuid.uuid4())
    handoff = handoff_of(open_stream(events_app, sign_in(events_app, user_id)))
    assert handoff.full_with == {f"actor:{user_id}"}
    assert handoff.viewer == Viewer(user_id, "user")


def test_an_admin_stream_sees_every_entry_in_full(events_app):
    handoff = handoff_of(open_stream(events_app, sign_in(events_app, "root", "admin")))
    assert handoff.full_with == {EVERY_ENTRY}
    assert handoff.viewer == Viewer("root", "admin")


def test_filters_become_the_tags_an_entry_must_carry(events_app):
    someone = str(uuid.uuid4())
    handoff = handoff_of(open_stream(
        events_app, query=f"?user_id={someone}&resource_id={someone}&resource_type=User"))
    assert handoff.required == {f"actor:{someone}", f"resource:{someone}", "type:User"}


def test_a_bad_filter_is_refused_in_the_v0_envelope_and_hands_nothing_over(events_app):
    response = open_stream(events_app, query="?resource_type=Comment")
    assert response.status_code == 400
    assert HANDOFF_HEADER not in response.headers
    assert "code" in response.get_json()


def test_a_reconnecting_stream_is_replayed_in_pages_from_its_last_event_id(events_app,
                                                                           monkeypatch):
    from events_service.api.v0 import action_logs  # noqa: PLC0415

    monkeypatch.setattr(action_logs, "REPLAY_PAGE", 2)
    first, *missed = store(events_app, 4)
    response = open_stream(events_app, **{"Last-Event-ID": first})
    handoff = handoff_of(response)
    assert (handoff.after, handoff.more) == (missed[1], True)
    assert [line.split()[1] for line in response.get_data(as_text=True).splitlines()
            if line.startswith("id:")] == missed[:2]
    last = handoff_of(open_stream(events_app, **{"Last-Event-ID": handoff.after}))
    assert (last.after, last.more) == (missed[2], False)


def replayed_ids(response) -> list[str]:
    return [line.split()[1] for line in response.get_data(as_text=True).splitlines()
            if line.startswith("id:")]


def test_a_stream_without_a_session_resumes_no_further_back_than_the_last_hour(events_app,
                                                                               monkeypatch):
    first, *later = store(events_app, 3)
    two_hours_on = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(actions, "utcnow", lambda: two_hours_on)
    anonymous = open_stream(events_app, **{"Last-Event-ID": first})
    assert replayed_ids(anonymous) == []
    assert handoff_of(anonymous).more is False
    # Signed in, the same reader gets all it missed: the bound is for streams nobody owns.
    signed_in = open_stream(events_app, sign_in(events_app, str(uuid.uuid4())),
                            **{"Last-Event-ID": first})
    assert replayed_ids(signed_in) == later


@pytest.mark.parametrize("last", ["zzz-not-an-id", "ffffffff-ffff-7fff-bfff-ffffffffffff"])
def test_a_last_event_id_naming_no_entry_starts_from_now(events_app, last):
    store(events_app, 1)
    response = open_stream(events_app, **{"Last-Event-ID": last})
    assert handoff_of(response).after is None  # a future id would hold back everything
    assert response.get_data() == b""


def test_each_stored_entry_is_published_once_rendered_for_each_audience(events_app,
                                                                       redis_client):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    actor = str(uuid.uuid4())
    record = {"id": str(uuid.uuid4()), "action": "auth:login_failed", "actor_id": actor,
              "actor_ip": "10.9.9.9", "resource_type": "User", "resource_id": actor,
              "summary": "A sign-in failed", "metadata": {"user_agent": "SecretBrowser/1.0"},
              "public": False, "created_at": "2026-12-01T00:00:00Z"}
    publisher(redis_client)(record)
    deadline, entry = time.monotonic() + 10, None
    while entry is None or entry.id != record["id"]:  # a shared Redis carries others' too
        assert time.monotonic() < deadline, "the entry was never published"
        message = pubsub.get_message(timeout=1)
        entry = Entry.decode(message["data"]) if message else None
    pubsub.close()
    assert entry.tags == {EVERY_ENTRY, f"actor:{actor}", f"resource:{actor}", "type:User"}
    assert b"SecretBrowser" in entry.full
    assert b"10.9.9.9/32" in entry.full
    assert entry.public is None  # a security entry: for its actor and admins only


def test_a_publish_that_fails_is_logged_and_the_entry_kept(events_app, caplog):
    gone = redis.Redis(port=1, socket_connect_timeout=0.2)
    publisher(gone)({"id": "x", "action": "user:create", "actor_id": None, "actor_ip": None,
                     "resource_type": "User", "resource_id": None, "summary": "s",
                     "metadata": None, "public": True, "created_at": "2026-12-01T00:00:00Z"})
    assert "live publish failed" in caplog.text


def user_registered() -> Event:
    return Event(str(uuid.uuid4()), "user.registered", "user", datetime.now(UTC),
                 {"user_id": str(uuid.uuid4()), "handle": "someone"})


def test_entries_two_instances_store_at_once_sort_in_the_order_they_were_committed(
        events_app):
    """A stream resumes after the last id it got: an entry committed after it must sort
    after it, whichever instance's consumer stored which."""
    committed: list[str] = []  # event ids, in the order their entries were committed
    with events_app.app_context():
        other_engine = sa.create_engine(db.engine.url, connect_args=(
            {"timeout": 10} if db.engine.dialect.name == "sqlite" else {}))

    def other_instance() -> None:
        event = user_registered()
        with sa.orm.Session(other_engine) as session:
            actions.record_event(session, event, lambda record: None)
            session.commit()
        committed.append(event.id)

    with events_app.app_context():
        event = user_registered()
        actions.record_event(db.session, event, lambda record: None)
        other = threading.Thread(target=other_instance)
        other.start()
        other.join(1)  # done by now, unless it waits for this one to commit first
        db.session.commit()
        committed.append(event.id)
        other.join()
        in_id_order = list(db.session.scalars(sa.select(ActionLog.event_id).where(
            ActionLog.event_id.in_(committed)).order_by(ActionLog.id)))
    other_engine.dispose()
    assert in_id_order == committed
