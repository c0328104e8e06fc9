"""The Omikron WebSocket (document 001) through the gateway, spoken like a real Omikron:
the handshake against its registered X448 key, then the requests it forwards."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

import pytest
import simple_websocket

from tests.e2e.conftest import RunningPlatform, eventually, unique, visitor
from tests.tensamin import (
    Iota,
    IotaUser,
    Omikron,
    OmikronSocket,
    RegisteredOmikron,
    new_reset_token,
    register_omikron,
)


@pytest.fixture(scope="module")
def registered(platform: RunningPlatform) -> RegisteredOmikron:
    return register_omikron(platform.var_dir)


@pytest.fixture
def omikron(platform: RunningPlatform, registered: RegisteredOmikron) -> Omikron:
    return Omikron(platform.url, registered, visitor())


@pytest.fixture
def socket(omikron: Omikron) -> Iterator[OmikronSocket]:
    connected = omikron.connect()
    yield connected
    connected.close()


def register_over_socket(socket: OmikronSocket, username: str) -> tuple[int, IotaUser]:
    """What an Iota asks through its Omikron: `get_register`, then `complete_register_user`
    (the real Iota sends its user's id as `iota_id`)."""
    issued = socket.ask("get_register")
    assert issued["type"] == "get_register"
    number = issued["data"]["user_id"]
    assert issued["data"]["register_id"] == number
    user = IotaUser(username)
    done = socket.ask("complete_register_user", {
        "user_id": number, "username": username, "public_key": user.public_key,
        "iota_id": number, "reset_token": user.reset_token,
        "private_key_hash": user.private_key_hash})
    assert done["type"] == "success", done
    return number, user


# -- the handshake ------------------------------------------------------------------------

def test_a_registered_omikron_proves_its_key(omikron: Omikron) -> None:
    socket = omikron.connect(authenticate=False)
    answer = socket.handshake(omikron.registered.number, omikron.registered.private_key)
    assert answer == {"id": answer["id"], "type": "identification_response", "data": {}}
    socket.close()


def test_without_the_key_the_challenge_fails_and_the_socket_closes(omikron: Omikron) -> None:
    socket = omikron.connect(authenticate=False)
    assert socket.ask("identification", {"omikron": omikron.registered.number})["type"] == (
        "challenge")
    answer = socket.ask("challenge_response", {"challenge": "A" * 32})
    assert answer["type"] == "error_invalid_challenge"
    assert socket.closed(timeout=5)


@pytest.mark.parametrize("number", [12345, 10 ** 23, -1])
def test_an_unknown_omikron_is_not_authenticated(omikron: Omikron, number: int) -> None:
    socket = omikron.connect(authenticate=False)
    answer = socket.ask("identification", {"omikron": number})
    assert answer["type"] == "error_not_authenticated"
    assert socket.closed(timeout=5)


def test_nothing_but_ping_is_answered_before_the_handshake(omikron: Omikron) -> None:
    socket = omikron.connect(authenticate=False)
    assert socket.ask("ping")["type"] == "pong"
    assert socket.ask("get_register")["type"] == "error_not_authenticated"
    assert socket.closed(timeout=5)


def test_a_quiet_omikron_is_pinged_and_then_dropped(omikron: Omikron) -> None:
    socket = omikron.connect()
    socket.send("get_register")
    assert socket.receive()["type"] == "get_register"
    # The platform pings every 0.5 s and drops a peer it has not heard from for 2 s.
    assert socket.closed(timeout=5)


def test_answering_pings_keeps_the_connection(socket: OmikronSocket) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            socket.receive(timeout=1)  # only pings arrive, and each is answered
    assert socket.pings >= 4
    assert socket.ask("ping")["type"] == "pong"


# -- requests -----------------------------------------------------------------------------

def test_an_iota_registers_through_its_omikron(socket: OmikronSocket,
                                               platform: RunningPlatform) -> None:
    name = unique("w")[:12]
    number, user = register_over_socket(socket, name)
    by_number = socket.ask("get_user_data", {"user_id": number})
    assert by_number["type"] == "get_user_data"
    data = by_number["data"]
    assert (data["user_id"], data["iota_id"], data["username"]) == (number, number, name)
    assert data["display"] == name  # falls back to the username
    assert (data["public_key"], data["sub_level"], data["sub_end"]) == (user.public_key, 0, 0)
    assert data["online_status"] == "iota_offline"
    # Matched without regard to case or underscores, data keys too.
    by_name = socket.ask("GetUserData", {"UserName": name.upper()})
    assert by_name["data"]["user_id"] == number
    # The protocol's number and the REST API's UUID name the same user.
    iota = Iota(platform.url, visitor())
    user_id = iota.uuid_of(name)["data"]["user_id"]
    assert iota.profile(user_id)["data"]["public_key"] == user.public_key


def test_registration_numbers_work_once(socket: OmikronSocket) -> None:
    number, _user = register_over_socket(socket, unique("o")[:12])
    again = IotaUser(unique("p")[:12])
    replay = socket.ask("complete_register_user", {
        "user_id": number, "username": again.username, "public_key": again.public_key,
        "iota_id": number, "reset_token": again.reset_token})
    assert replay["type"] == "error"
    assert "invalid UUID" in replay["data"]["error_type"]


def test_profile_changes_and_the_documents_spellings(socket: OmikronSocket) -> None:
    number, user = register_over_socket(socket, unique("s")[:12])
    changed = socket.ask("change_user_data", {"user_id": number, "display": "Sam",
                                              "status": "here"})
    assert changed["type"] == "success"
    assert socket.ask("get_user_data", {"user_id": number})["data"]["display"] == "Sam"
    # "Changing the iota" as the document spells it: change_user_data with the tokens.
    new_token = new_reset_token()
    moved = socket.ask("change_user_data", {"user_id": number, "iota_id": 77,
                                            "reset_token": user.reset_token,
                                            "new_token": new_token})
    assert moved["type"] == "success"
    replayed = socket.ask("change_iota_data", {"user_id": number, "iota_id": 78,
                                               "reset_token": user.reset_token,
                                               "new_token": new_reset_token()})
    assert replayed["type"] == "error_invalid_challenge"
    assert socket.ask("get_user_data", {"user_id": number})["data"]["iota_id"] == 77
    no_hash = socket.ask("change_user_data", {"user_id": number, "public_key": user.public_key})
    assert no_hash["data"] == {
        "error_type": "private_key_hash is required when changing public_key"}


def test_users_and_iotas_are_deleted_by_either_name(socket: OmikronSocket) -> None:
    number, _user = register_over_socket(socket, unique("d")[:12])
    assert socket.ask("delete_profile", {"user_id": number})["type"] == "success"
    assert socket.ask("get_user_data", {"user_id": number})["type"] == "error_not_found"
    iota = IotaUser("iota")
    allocated = socket.ask("complete_register_iota", {"public_key": iota.public_key})
    assert allocated["type"] == "complete_register_iota"
    iota_id = allocated["data"]["iota_id"]
    assert socket.ask("get_iota_data", {"iota_id": iota_id})["data"] == {
        "iota_id": iota_id, "public_key": iota.public_key}
    assert socket.ask("delet_profile", {"iota_id": iota_id})["type"] == "success"
    assert socket.ask("delete_iota", {"iota_id": iota_id})["type"] == "error_not_found"


def test_presence_reports_show_in_user_data(socket: OmikronSocket,
                                            registered: RegisteredOmikron) -> None:
    number, _user = register_over_socket(socket, unique("q")[:12])
    socket.send("iota_connected", {"iota_id": number})
    assert socket.ask("get_user_data", {"user_id": number})["data"]["online_status"] == (
        "user_offline")
    socket.send("user_connected", {"user_id": number})
    data = socket.ask("get_user_data", {"user_id": number})["data"]
    assert (data["online_status"], data["omikron_connections"], data["omikron_id"]) == (
        "user_online", [registered.number], registered.number)
    socket.send("sync_client_iota_status", {"user_ids": [], "iota_ids": []})
    assert socket.ask("get_user_data", {"user_id": number})["data"]["online_status"] == (
        "iota_offline")


def test_a_reconnecting_omikron_keeps_what_its_new_socket_reports(omikron: Omikron,
                                                                  socket: OmikronSocket) -> None:
    number, _user = register_over_socket(socket, unique("v")[:12])
    socket.send("user_connected", {"user_id": number})
    fresh = omikron.connect()  # the relay reconnects before its old socket has ended
    fresh.send("user_connected", {"user_id": number})
    socket.close()
    assert socket.closed(timeout=5)
    data = fresh.ask("get_user_data", {"user_id": number})["data"]
    assert (data["online_status"], data["omikron_connections"]) == (
        "user_online", [omikron.registered.number])
    fresh.close()  # and when that one ends too, nobody reports the user any more
    asker = omikron.connect()
    eventually(lambda: asker.ask("get_user_data", {"user_id": number})["data"][
        "online_status"] == "iota_offline")
    asker.close()


@pytest.mark.parametrize(("kind", "data", "expected"), [
    ("get_user_data", {"user_id": 1}, "error_not_found"),
    ("get_user_data", {"user_id": "not a number"}, "error_invalid_data"),
    ("change_user_data", {}, "error_invalid_data"),
    ("delete_user", {"user_id": -5}, "error_invalid_data"),
    ("complete_register_iota", {"public_key": "bm90IGEga2V5"}, "error_invalid_public_key"),
])
def test_typed_errors(socket: OmikronSocket, kind: str, data: dict, expected: str) -> None:
    answer = socket.ask(kind, data)
    assert answer["type"] == expected


def test_unreadable_frames_and_unknown_types_are_answered(socket: OmikronSocket) -> None:
    socket.ws.send("{not json")
    assert socket.receive()["type"] == "error_invalid_data"
    socket.ws.send(json.dumps(["a", "list"]))
    assert socket.receive()["type"] == "error_invalid_data"
    unknown = socket.ask("frobnicate", {})
    assert unknown == {"id": unknown["id"], "type": "error",
                       "data": {"error_type": "Unknown message type"}}
    numeric = socket.send("ping", message_id=42)
    assert socket.receive() == {"id": numeric, "type": "pong", "data": {}}
    socket.ws.send("[" * 100_000 + "]" * 100_000)
    assert socket.receive()["type"] == "error_invalid_data"
    assert socket.ask("ping", {})["type"] == "pong"  # and the socket is still open


# -- hostile peers ------------------------------------------------------------------------

def test_pings_alone_do_not_keep_a_stranger_connected(omikron: Omikron) -> None:
    socket = omikron.connect(authenticate=False)

    def keep_pinging() -> None:
        for _ in range(20):  # 10 s of pings; a stranger has the idle limit (2 s) to identify
            socket.ask("ping")
            time.sleep(0.5)

    with pytest.raises((simple_websocket.ConnectionClosed, TimeoutError)):
        keep_pinging()


def test_an_oversized_frame_closes_the_socket_unread(omikron: Omikron) -> None:
    socket = omikron.connect(authenticate=False)
    with contextlib.suppress(simple_websocket.ConnectionClosed, OSError):
        socket.ws.send("x" * (5 << 20))
    frames = []
    with contextlib.suppress(simple_websocket.ConnectionClosed):
        while (text := socket.ws.receive(timeout=5)) is not None:
            frames.append(json.loads(text)["type"])
    assert set(frames) <= {"ping"}  # read, it would have been answered error_invalid_data
    assert not socket.ws.connected


def test_a_foreign_browser_origin_cannot_open_the_socket(platform: RunningPlatform) -> None:
    with pytest.raises((ConnectionError, simple_websocket.ConnectionError)):
        simple_websocket.Client.connect(
            platform.url.replace("http://", "ws://") + "/ws/omikron",
            headers={"Origin": "https://evil.example"})
