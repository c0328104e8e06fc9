"""The throttle against a real Redis: counts, delays, atomic bursts and known devices."""

import threading
import time
import uuid

from tessera_shared.throttle import PASSWORD, Rule, Throttle

RULE = Rule("test", free=2, base_delay=60, max_delay=600, window=3600)
ADDRESS_RULE = Rule("test-ip", free=2, base_delay=60, max_delay=600, window=3600,
                    cleared_by_success=False)


def subject():
    return str(uuid.uuid4())


def failures(redis_client, rule, who) -> int:
    return int(redis_client.hget(rule.key(who), "failures") or 0)


def test_the_first_failures_are_free_then_the_delay_doubles(redis_client):
    throttle, who = Throttle(redis_client), subject()
    rule = Rule("fast", free=1, base_delay=0.5, max_delay=600, window=3600)
    assert throttle.attempt((rule, who))          # the free failure
    assert not throttle.attempt((rule, who))      # after it: wait 0.5 s
    time.sleep(0.6)
    assert throttle.attempt((rule, who))          # the second failure ...
    time.sleep(0.6)
    assert not throttle.attempt((rule, who))      # ... doubles the wait to 1 s
    time.sleep(0.5)
    assert throttle.attempt((rule, who))


def test_a_subject_is_refused_once_past_its_free_failures(redis_client):
    throttle, who = Throttle(redis_client), subject()
    assert [throttle.attempt((RULE, who)) for _ in range(3)] == [True, True, False]
    assert throttle.attempt((RULE, subject()))  # others are not affected


def test_a_refused_attempt_is_not_counted_and_does_not_push_the_delay(redis_client):
    throttle, who = Throttle(redis_client), subject()
    throttle.attempt((RULE, who))
    throttle.attempt((RULE, who))
    last = redis_client.hget(RULE.key(who), "last")
    for _ in range(5):
        assert not throttle.attempt((RULE, who))
    assert failures(redis_client, RULE, who) == 2
    assert redis_client.hget(RULE.key(who), "last") == last


def test_one_throttled_subject_refuses_the_whole_check_and_counts_none(redis_client):
    throttle, guessed, fresh = Throttle(redis_client), subject(), subject()
    throttle.attempt((RULE, guessed))
    throttle.attempt((RULE, guessed))
    assert not throttle.attempt((RULE, fresh), (RULE, guessed))
    assert failures(redis_client, RULE, fresh) == 0


def test_a_parallel_burst_gets_exactly_the_free_checks(redis_client):
    throttle, who = Throttle(redis_client), subject()
    rule = Rule("burst", free=5, base_delay=60, max_delay=600, window=3600)
    start, allowed = threading.Barrier(31), []

    def guess() -> None:
        start.wait()
        allowed.append(throttle.attempt((rule, who)))

    threads = [threading.Thread(target=guess) for _ in range(31)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def test_a_success_clears_the_account_and_takes_back_only_its_own_count_of_the_address(
        redis_client):
    throttle, account, address = Throttle(redis_client), subject(), subject()
    throttle.attempt((RULE, account), (ADDRESS_RULE, address))
    checks = ((RULE, account), (ADDRESS_RULE, address))
    assert throttle.attempt(*checks)
    throttle.succeeded(*checks)
    assert failures(redis_client, RULE, account) == 0
    assert failures(redis_client, ADDRESS_RULE, address) == 1  # the earlier failure stays
    assert 0 < redis_client.ttl(ADDRESS_RULE.key(address)) <= ADDRESS_RULE.window


def test_a_rate_limit_lets_the_free_actions_through_then_refuses(redis_client):
    throttle, who = Throttle(redis_client), subject()
    assert [throttle.take(RULE, who) for _ in range(3)] == [True, True, False]


def lock_out(throttle: Throttle, account: str) -> None:
    """A guesser elsewhere fails until the account is throttled for everyone unknown."""
    while throttle.attempt(*throttle.checks(PASSWORD, account, device=None, ip="203.0.113.9")):
        pass


def test_a_device_that_signed_in_before_is_not_locked_out_by_failures_elsewhere(redis_client):
    throttle, account, phone = Throttle(redis_client), subject(), subject()
    checks = throttle.checks(PASSWORD, account, device=phone, ip="198.51.100.7")
    assert throttle.attempt(*checks)
    throttle.proved(PASSWORD, account, checks, device=phone, ip="198.51.100.7")
    lock_out(throttle, account)

    stranger = throttle.checks(PASSWORD, account, device=subject(), ip="192.0.2.1")
    assert not throttle.attempt(*stranger)  # a new device is held back with the guesser
    known = throttle.checks(PASSWORD, account, device=phone, ip="192.0.2.44")
    assert known == ((PASSWORD.per_known_device, f"{account}:cookie:{phone}"),)
    assert throttle.attempt(*known)  # the owner's phone gets in, from any address


def test_a_known_device_has_a_small_allowance_of_its_own(redis_client):
    throttle, account, phone = Throttle(redis_client), subject(), subject()
    checks = throttle.checks(PASSWORD, account, device=phone, ip="198.51.100.7")
    throttle.attempt(*checks)
    throttle.proved(PASSWORD, account, checks, device=phone, ip="198.51.100.7")
    known = throttle.checks(PASSWORD, account, device=phone, ip="198.51.100.7")
    allowed = [throttle.attempt(*known) for _ in range(PASSWORD.per_known_device.free + 1)]
    assert allowed == [True] * PASSWORD.per_known_device.free + [False]


def test_without_a_device_the_address_stands_in_for_it(redis_client):
    throttle, account = Throttle(redis_client), subject()
    checks = throttle.checks(PASSWORD, account, device=None, ip="198.51.100.8")
    throttle.attempt(*checks)
    throttle.proved(PASSWORD, account, checks, device=None, ip="198.51.100.8")
    assert throttle.checks(PASSWORD, account, device=None, ip="198.51.100.8") == (
        (PASSWORD.per_known_device, f"{account}:ip:198.51.100.8"),)


def test_a_cookie_naming_a_known_address_is_not_that_address(redis_client):
    throttle, account = Throttle(redis_client), subject()
    checks = throttle.checks(PASSWORD, account, device=None, ip="198.51.100.9")
    throttle.attempt(*checks)
    throttle.proved(PASSWORD, account, checks, device=None, ip="198.51.100.9")
    for forged in ("198.51.100.9", "ip:198.51.100.9", "not-a-uuid"):
        assert throttle.checks(PASSWORD, account, device=forged, ip="203.0.113.5") == (
            (PASSWORD.per_account, account), (PASSWORD.per_ip, "203.0.113.5"))


def test_taking_back_a_count_that_expired_leaves_nothing_behind(redis_client):
    throttle, address = Throttle(redis_client), subject()
    throttle.succeeded((ADDRESS_RULE, address))
    assert not redis_client.exists(ADDRESS_RULE.key(address))
