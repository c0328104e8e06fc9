"""The Omikron protocol's frames and handshake, and the registry's own rules."""

from __future__ import annotations

import base64
import json
import os
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag

from registry_service import keyholders
from registry_service.api.omikron import handshake
from registry_service.api.omikron.protocol import Frame, FrameError
from registry_service.models import Keyholder
from tessera_shared.errors import DomainError
from tests.tensamin import decrypt_challenge, public_key_of


@pytest.mark.parametrize("spelling", ["delete_user", "deleteUser", "DELETE_USER",
                                      "delete_profile", "DeleteProfile"])
def test_type_names_are_matched_loosely_and_the_documents_spelling_is_an_alias(spelling):
    assert Frame.parse(json.dumps({"id": "a1", "type": spelling})).type == "delete_user"


def test_delet_profile_deletes_an_iota():
    assert Frame.parse('{"type": "delet_profile", "data": {"iotaId": 3}}').data == {"iota_id": 3}
    assert Frame.parse('{"type": "delet_profile"}').type == "delete_iota"


def test_change_user_data_with_the_tokens_changes_the_iota():
    frame = Frame.parse(json.dumps({"type": "change_user_data", "data": {
        "user_id": 1, "iota_id": 2, "reset_token": "a", "NEW_TOKEN": "b"}}))
    assert frame.type == "change_iota_data"
    assert frame.data == {"user_id": 1, "iota_id": 2, "reset_token": "a", "new_token": "b"}


def test_unknown_types_and_keys_are_not_guessed():
    frame = Frame.parse('{"id": 7, "type": "launch", "data": {"user_id": 1, "rocket": true}}')
    assert (frame.type, frame.data, frame.id) == ("unknown", {"user_id": 1}, 7)


def test_a_reply_reuses_the_request_id_and_a_missing_one_is_made():
    frame = Frame.parse('{"id": "req-1", "type": "ping"}')
    assert json.loads(frame.reply("pong")) == {"id": "req-1", "type": "pong", "data": {}}
    assert Frame.parse('{"type": "ping"}').id  # a fresh id


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '"text"', "null"])
def test_what_is_not_an_object_is_not_a_frame(text):
    with pytest.raises(FrameError):
        Frame.parse(text)


def test_only_the_holder_of_the_private_key_reads_the_challenge():
    """Read as the Omikron reads it (the test client's own implementation)."""
    server = handshake.server_key(b"secret")
    omikron, stranger = os.urandom(56), os.urandom(56)
    challenge = handshake.new_challenge()
    assert len(challenge) == 32
    assert challenge.isalnum()
    sealed = handshake.encrypt(server, base64.b64decode(public_key_of(omikron)), challenge)
    server_public = handshake.public_key_text(server)
    assert decrypt_challenge(omikron, server_public, sealed) == challenge
    with pytest.raises(InvalidTag):
        decrypt_challenge(stranger, server_public, sealed)


def test_the_server_key_is_stable_for_one_secret_and_differs_between_secrets():
    assert handshake.public_key_text(handshake.server_key(b"one")) == (
        handshake.public_key_text(handshake.server_key(b"one")))
    assert handshake.public_key_text(handshake.server_key(b"one")) != (
        handshake.public_key_text(handshake.server_key(b"two")))


def test_a_key_that_is_not_x448_cannot_be_challenged():
    with pytest.raises(ValueError, match="public key"):
        handshake.encrypt(handshake.server_key(b"s"), os.urandom(12), "challenge")


@pytest.mark.parametrize(("given", "kept"), [
    ("Alice_Test", "alice_test"), ("bob.smith!", "bobsmith"), ("Ünïcode9", "ncode9")])
def test_usernames_are_normalised_as_the_original(given, kept):
    assert keyholders.checked_username(given) == kept


@pytest.mark.parametrize("given", ["!!!", "", "a" * 16])
def test_a_username_that_normalises_to_nothing_or_too_much_is_refused(given):
    with pytest.raises(DomainError, match="1 to 15"):
        keyholders.checked_username(given)


def holder(level: int, until: date | None) -> Keyholder:
    return Keyholder(user_id="u", number=1, public_key="k", token_digest="t", iota_id="i",
                     sub_level=level, sub_until=until)


@pytest.mark.parametrize(("until", "today", "expected"), [
    (None, date(2026, 1, 1), (0, 0)),
    (date(2026, 1, 31), date(2026, 1, 1), (1, 30)),
    (date(2026, 1, 31), date(2026, 1, 30), (1, 1)),
    (date(2026, 1, 31), date(2026, 1, 31), (0, 0)),   # the day it ends, as the daily job did
    (date(2026, 1, 31), date(2026, 3, 1), (0, 0)),
])
def test_subscription_days_count_down_from_the_stored_expiry(until, today, expected):
    assert keyholders.subscription(holder(1, until), today) == expected


def test_profile_changes_map_onto_the_shared_profile():
    changes = keyholders.profile_changes(
        {"username": "New.Name", "display": None, "about": None, "status": "hi",
         "private_key_hash": "ignored"}, level=0)
    assert changes == {"handle": "newname", "display_name": "", "bio": None, "status": "hi"}


def test_avatars_are_lossy_for_free_users_and_full_quality_for_subscribers():
    free = keyholders.profile_changes({"avatar": "data:image/png;base64,AAAA"}, level=0)
    premium = keyholders.profile_changes({"avatar": "AAAA"}, level=1)
    assert free["image"] == {"data": "AAAA", "max_side": 450, "quality": 30}
    assert premium["image"]["quality"] == 100
