import json
import time
import uuid

import pytest

from tessera_shared.ids import digest
from tessera_shared.sessions import Client, SessionPolicy, SessionStore


@pytest.fixture
def user_id():
    return str(uuid.uuid4())


@pytest.fixture
def store(redis_client):
    return SessionStore(redis_client)


def test_a_created_session_is_read_back_by_its_token(store, user_id):
    token, record = store.create(user_id, Client("1.2.3.4", "ua"), remember_me=False)
    assert store.read(token) == record
    assert record.expires_at - record.created_at == 24 * 3600


def test_redis_keeps_only_the_hash_of_the_token(store, redis_client, user_id):
    token, _ = store.create(user_id, Client("", ""), remember_me=False)
    assert redis_client.exists(f"session:{digest(token)}")
    assert not redis_client.keys(f"*{token}*")


@pytest.mark.parametrize("token", [None, "", "unknown", "x" * 5000])
def test_unknown_or_absurd_tokens_read_as_no_session(store, token):
    assert store.read(token) is None


def test_reading_late_in_the_window_slides_the_expiry_but_never_past_the_maximum(redis_client,
                                                                               user_id):
    store = SessionStore(redis_client, SessionPolicy(sliding_seconds=100,
                                                     max_lifetime_seconds=1000,
                                                     refresh_threshold=1.0))
    token, first = store.create(user_id, Client("", ""), remember_me=True)
    time.sleep(1.1)
    assert store.read(token, refresh=False).expires_at == first.expires_at  # a mere check
    refreshed = store.read(token)
    assert refreshed.expires_at > first.expires_at
    assert refreshed.expires_at <= first.max_expires_at


def test_logout_ends_only_that_session(store, user_id):
    first, _ = store.create(user_id, Client("", ""), remember_me=False)
    second, _ = store.create(user_id, Client("", ""), remember_me=False)
    store.revoke(first)
    assert store.read(first) is None
    assert store.read(second) is not None
    assert store.revoke(first) is None


def test_revoke_all_can_keep_the_current_session(store, user_id):
    keep_token, keep = store.create(user_id, Client("", ""), remember_me=False)
    others = [store.create(user_id, Client("", ""), remember_me=False)[0] for _ in range(3)]
    assert store.revoke_all(user_id, keep=keep.id) == 3
    assert all(store.read(token) is None for token in others)
    assert store.read(keep_token) is not None


def test_listing_shows_live_sessions_newest_first_and_prunes_expired_ones(store, redis_client,
                                                                         user_id):
    first_token, first = store.create(user_id, Client("", "a"), remember_me=False)
    _, second = store.create(user_id, Client("", "b"), remember_me=False)
    assert [r.id for r in store.list(user_id)] == [second.id, first.id]
    redis_client.delete(f"session:{digest(first_token)}")  # as if it had expired
    assert [r.id for r in store.list(user_id)] == [second.id]
    assert redis_client.hkeys(f"user_sessions:{user_id}") == [second.id.encode()]


def test_a_session_is_revoked_by_id_only_by_its_owner(store, user_id):
    token, record = store.create(user_id, Client("", ""), remember_me=False)
    assert not store.revoke_id("someone-else", record.id)
    assert store.read(token) is not None
    assert store.revoke_id(user_id, record.id)
    assert store.read(token) is None


def test_a_role_change_reaches_every_live_session_and_keeps_its_expiry(store, redis_client,
                                                                       user_id):
    token, _ = store.create(user_id, Client("", ""), remember_me=False)
    ttl = redis_client.ttl(f"session:{digest(token)}")
    assert store.read(token).role == "user"
    assert store.set_role(user_id, "admin") == 1
    assert store.read(token).role == "admin"
    assert redis_client.ttl(f"session:{digest(token)}") <= ttl
    assert redis_client.ttl(f"session:{digest(token)}") > 0


def test_keeping_the_newest_sessions_of_a_family_leaves_other_families_alone(store, user_id):
    web = [store.create(user_id, Client("", ""), remember_me=False)[0] for _ in range(2)]
    calendar = [store.create(user_id, Client("", ""), remember_me=True,
                             family="users_api")[0] for _ in range(4)]
    assert store.keep_newest(user_id, "users_api", 3) == 1
    assert store.read(calendar[0]) is None
    assert all(store.read(token) for token in calendar[1:] + web)
    assert store.keep_newest(user_id, "users_api", 3) == 0


def test_a_record_written_by_a_newer_release_still_reads(redis_client):
    store = SessionStore(redis_client)
    token, record = store.create("user-1", Client("192.0.2.1", "t"), remember_me=False)
    key = f"session:{digest(token)}"
    stored = json.loads(redis_client.get(key))
    redis_client.set(key, json.dumps({**stored, "added_later": [1, 2]}), keepttl=True)
    assert store.read(token) == record
