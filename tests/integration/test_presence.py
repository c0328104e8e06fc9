"""Omikron presence reports, in a real Redis."""

from __future__ import annotations

import time
import uuid

import redis

from registry_service.presence import Presence


def test_reports_count_while_their_connection_lives(redis_url):
    presence = Presence(redis.Redis.from_url(redis_url), stale_after=60)
    user, iota = int(time.time() * 1000), str(uuid.uuid4())
    first, second = presence.joined(7), presence.joined(8)
    presence.connected(first, "iota", iota)
    assert presence.of_user(user, iota).online_status == "user_offline"
    presence.connected(first, "user", user)
    presence.connected(second, "user", user)
    assert presence.of_user(user, iota).omikron_connections == [7, 8]
    presence.left(first)
    assert presence.of_user(user, iota).omikron_connections == [8]
    presence.sync(second, users=[], iotas=[])
    assert presence.of_user(user, iota).online_status == "iota_offline"
    presence.left(second)


def test_a_connection_nobody_touches_stops_counting(redis_url):
    presence = Presence(redis.Redis.from_url(redis_url), stale_after=0.3)
    user = int(time.time() * 1000) + 1
    connection = presence.joined(9)
    presence.connected(connection, "user", user)
    assert presence.of_user(user, "-").online_status == "user_online"
    time.sleep(0.5)  # its registry process died: no ping touched it since
    assert presence.of_user(user, "-").online_status == "iota_offline"
