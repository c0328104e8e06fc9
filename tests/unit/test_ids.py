import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tessera_shared.ids import digest, new_secret, uuid7, uuid7_after, uuid7_floor


def test_uuid7_is_version_7_with_the_rfc_variant():
    value = uuid7()
    assert value.version == 7
    assert value.variant == uuid.RFC_4122


def test_uuid7s_made_in_a_row_sort_in_creation_order():
    made = [uuid7() for _ in range(5000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_secrets_carry_256_bits_and_are_stored_only_as_digests():
    secret = new_secret()
    assert len(secret) == 43
    assert secret not in digest(secret)
    assert digest(secret) == digest(secret)
    assert len(digest(secret)) == 64


def test_the_floor_of_a_moment_sorts_before_every_id_made_then_or_later_and_after_earlier():
    moment = datetime.now(UTC)
    floor = uuid7_floor(moment)
    made = str(uuid7())
    assert floor <= made
    assert uuid7_floor(moment - timedelta(milliseconds=1)) < floor
    assert uuid7_floor(moment + timedelta(seconds=1)) > made


@pytest.mark.parametrize("ahead", [timedelta(0), timedelta(minutes=5)])
def test_an_id_made_after_another_sorts_after_it_even_if_that_one_came_from_a_clock_ahead(
        ahead):
    """Made by another instance whose clock runs `ahead` of this one's."""
    previous = str(uuid.UUID(int=uuid7().int + (int(ahead.total_seconds() * 1000) << 80)))
    made = [previous]
    for _ in range(5000):  # past one millisecond's 4,096 counter values
        made.append(str(uuid7_after(made[-1])))
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(value).version == 7 for value in made)


def test_an_id_made_after_the_last_of_a_millisecond_moves_to_the_next():
    last = uuid.UUID(int=((uuid7().int >> 80) + 60_000 << 80) | (0x7 << 76) | (0xFFF << 64)
                     | (0b10 << 62))
    after = uuid7_after(str(last))
    assert after.int >> 80 == (last.int >> 80) + 1
    assert str(after) > str(last)
