"""Who sees what of an action-log entry, in pages and on the live stream (whose handoff the
gateway applies: tessera_shared.live)."""

from events_service import live
from events_service.actions import (
    Filters,
    ResourceType,
    Viewer,
    full_view_tags,
    required_tags,
    shown,
)
from tessera_shared.live import Handoff


def visible(record: dict, viewer: Viewer, filters: Filters) -> bool:
    """Whether a live stream with this viewer and these filters gets the entry, and if so,
    whether in the same form a page shows it."""
    handoff = Handoff(None, False, required_tags(filters), full_view_tags(viewer), None)
    sent = handoff.view(live.entry(record))
    if sent is not None:
        assert sent[0] == live.frame(shown(record, viewer))
    return sent is not None

LOGIN = {"id": "2", "action": "auth:login", "actor_id": "ann", "actor_ip": "203.0.113.7",
         "resource_type": "User", "resource_id": "ann", "summary": "Signed in",
         "metadata": {"user_agent": "Firefox", "session_id": "s1"}, "public": False,
         "created_at": "2026-11-22T00:00:00Z"}
SIGN_UP = {**LOGIN, "id": "1", "action": "user:create", "public": True,
           "metadata": {"handle": "ann", "user_agent": "Firefox"}}
ANONYMOUS, ANN, BOB = Viewer(None), Viewer("ann"), Viewer("bob")


def test_security_entries_are_for_their_actor_only():
    assert visible(LOGIN, ANN, Filters())
    assert not visible(LOGIN, ANONYMOUS, Filters())
    assert not visible(LOGIN, BOB, Filters())


def test_public_entries_never_show_the_address_or_private_metadata_to_others():
    for reader in (ANONYMOUS, BOB):
        public = shown(SIGN_UP, reader)
        assert public["actor_ip"] is None
        assert public["metadata"] == {"handle": "ann"}


def test_the_actor_sees_everything_with_the_address_as_inet():
    own = shown(LOGIN, ANN)
    assert own["actor_ip"] == "203.0.113.7/32"
    assert own["metadata"] == LOGIN["metadata"]
    assert "public" not in own


def test_filters_apply_to_live_entries():
    assert visible(SIGN_UP, ANONYMOUS, Filters(user_id="ann"))
    assert not visible(SIGN_UP, ANONYMOUS, Filters(user_id="bob"))
    assert not visible(SIGN_UP, ANONYMOUS, Filters(resource_type=ResourceType.POST))


def test_admins_see_every_entry_in_full():
    admin = Viewer("carol", admin=True)
    assert visible(LOGIN, admin, Filters())
    assert shown(LOGIN, admin)["actor_ip"] == "203.0.113.7/32"


def test_filters_on_resources_apply_to_live_entries():
    assert visible(SIGN_UP, ANONYMOUS, Filters(resource_id="ann"))
    assert not visible(SIGN_UP, ANONYMOUS, Filters(resource_id="bob"))
    assert visible(SIGN_UP, BOB, Filters(user_id="ann", resource_type=ResourceType.USER))


def test_a_stranger_never_gets_a_security_entry_whatever_the_filters_say():
    assert not visible(LOGIN, BOB, Filters(user_id="ann"))
