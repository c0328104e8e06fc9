"""The live stream's messages between events-service and the gateway (tessera_shared.live)."""

import pytest

from tessera_shared.live import EVERY_ENTRY, Entry, Handoff, Viewer
from tessera_shared.sessions import SessionRecord

ENTRY = Entry("0190", frozenset({EVERY_ENTRY, "actor:ann"}), b"full\n\n", b"public\n\n")


def session(user_id: str, role: str) -> SessionRecord:
    return SessionRecord("s", user_id, 0, 0, 0, 0, remember_me=False, ip="", user_agent="",
                         role=role)


def test_entries_and_handoffs_survive_the_wire():
    assert Entry.decode(ENTRY.encode()) == ENTRY
    private = Entry("0191", frozenset({EVERY_ENTRY}), b"full\n\n", None)
    assert Entry.decode(private.encode()) == private
    handoff = Handoff("0190", True, frozenset({"type:User"}), frozenset({"actor:ann"}),
                      Viewer("ann", "user"))
    assert Handoff.decode(handoff.encode()) == handoff


@pytest.mark.parametrize("raw", ["", "null", "[]", '{"after": null}', "{not json"])
def test_anything_else_is_not_a_handoff(raw):
    with pytest.raises(ValueError, match="not a live-stream handoff"):
        Handoff.decode(raw)
    with pytest.raises(ValueError, match="not a live entry"):
        Entry.decode(raw)


def test_a_viewer_holds_only_while_the_same_user_has_the_same_role():
    ann = Viewer("ann", "admin")
    assert ann.holds(session("ann", "admin"))
    assert not ann.holds(session("ann", "user"))
    assert not ann.holds(session("bob", "admin"))
    assert not ann.holds(None)
