import uuid
from datetime import UTC, datetime, timedelta

from tessera_shared.ids import digest, new_secret, uuid7, uuid7_floor


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
