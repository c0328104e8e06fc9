import uuid

from tessera_shared.throttle import Rule, Throttle

RULE = Rule("test", free=2, base_delay=60, max_delay=600, window=3600)


def subject():
    return str(uuid.uuid4())


def test_the_first_failures_are_free_then_the_delay_grows_to_its_cap():
    assert [RULE.delay(n) for n in (0, 1, 2, 3, 4, 10)] == [0, 0, 60, 120, 240, 600]


def test_a_subject_is_refused_once_past_its_free_failures(redis_client):
    throttle, who = Throttle(redis_client), subject()
    for _ in range(2):
        assert throttle.allows((RULE, who))
        throttle.failed((RULE, who))
    assert not throttle.allows((RULE, who))
    assert throttle.allows((RULE, subject()))  # others are not affected


def test_one_throttled_subject_refuses_the_whole_check(redis_client):
    throttle, guessed, fresh = Throttle(redis_client), subject(), subject()
    throttle.failed((RULE, guessed), (RULE, guessed))
    throttle.failed((RULE, guessed))
    assert not throttle.allows((RULE, fresh), (RULE, guessed))


def test_success_clears_the_count_and_failures_expire_with_the_window(redis_client):
    throttle, who = Throttle(redis_client), subject()
    for _ in range(3):
        throttle.failed((RULE, who))
    throttle.succeeded(RULE, who)
    assert throttle.allows((RULE, who))
    throttle.failed((RULE, who))
    assert 0 < redis_client.ttl(RULE.key(who)) <= RULE.window


def test_a_rate_limit_lets_the_free_actions_through_then_refuses(redis_client):
    throttle, who = Throttle(redis_client), subject()
    assert [throttle.take(RULE, who) for _ in range(3)] == [True, True, False]
