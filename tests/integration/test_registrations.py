"""Registration ids and protocol numbers, in a real Redis."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import redis

from registry_service.pending import LIFETIME_MS, Registrations


def test_an_open_id_is_claimed_once(redis_url):
    registrations = Registrations(redis.Redis.from_url(redis_url))
    registration = str(uuid.uuid4())
    registrations.open(registration)
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(registrations.claim, [registration] * 8))
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    assert LIFETIME_MS - 5_000 < winners[0] <= LIFETIME_MS


def test_a_reopened_id_keeps_only_the_time_it_had_left(redis_url):
    client = redis.Redis.from_url(redis_url)
    registrations = Registrations(client)
    registration = str(uuid.uuid4())
    registrations.open(registration)
    remaining = registrations.claim(registration)
    assert remaining is not None
    registrations.reopen(registration, 1_000)
    assert 0 < client.pttl(f"registry:pending:{registration}") <= 1_000
    assert registrations.claim(str(uuid.uuid4())) is None


def test_numbers_are_unique_and_rising_across_clients(redis_url):
    clients = [Registrations(redis.Redis.from_url(redis_url)) for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(lambda i: clients[i % 4].next_number(), range(400)))
    assert len(set(numbers)) == 400
    assert min(numbers) > 1_700_000_000_000
