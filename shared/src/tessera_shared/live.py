"""The live action-log stream, shared between events-service, which owns it, and the gateway,
which holds its connections (perf-notes G9: one process between Redis and the subscriber).

events-service decides everything about a stream: who is reading, which filters hold, what a
reconnecting client missed (the replay) and how each new entry looks to each audience. It
publishes every stored entry once on `CHANNEL`, already rendered as an SSE frame for its actor
and admins (`full`) and for everyone else (`public`), with tags naming what filters match it.
Asked to open a stream, it answers with the replay and a `Handoff` in the `HANDOFF_HEADER`:
which tags an entry must carry for this stream, which earn the full frame, and whose session
the stream is for. The gateway sends the replay, then writes every entry the handoff admits
straight from its one Redis subscription, and ends the stream when that session no longer
holds (a logout, a revocation or a changed role ends what it may read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tessera_shared.sessions import SessionRecord

CHANNEL = "tessera:live:action_logs"
HANDOFF_HEADER = "X-Tessera-Live"
EVERY_ENTRY = "entry"  # the tag every entry carries: a handoff granting it sees all in full
KEEP_ALIVE_SECONDS = 15


@dataclass(frozen=True)
class Entry:
    """One stored entry as the stream carries it."""

    id: str  # uuid7: ordered as the entries were stored
    tags: frozenset[str]
    full: bytes  # its SSE frame for its actor and for admins
    public: bytes | None  # ... for everyone else, None when it is not public

    def encode(self) -> str:
        return json.dumps({"id": self.id, "tags": sorted(self.tags),
                           "full": self.full.decode(),
                           "public": None if self.public is None else self.public.decode()})

    @classmethod
    def decode(cls, raw: bytes | str) -> Entry:
        """Raises ValueError for anything that is not an entry."""
        try:
            message = json.loads(raw)
            entry_id, tags, full, public = (message["id"], message["tags"], message["full"],
                                            message["public"])
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"not a live entry: {raw[:200]!r}") from error
        if not (isinstance(entry_id, str) and isinstance(full, str)
                and isinstance(public, str | None) and isinstance(tags, list)
                and all(isinstance(tag, str) for tag in tags)):
            raise ValueError(f"not a live entry: {raw[:200]!r}")
        return cls(entry_id, frozenset(tags), full.encode(),
                   None if public is None else public.encode())


@dataclass(frozen=True)
class Viewer:
    """The signed-in reader a stream was opened for."""

    user_id: str
    role: str

    def holds(self, session: SessionRecord | None) -> bool:
        return session is not None and (session.user_id, session.role) == (self.user_id,
                                                                           self.role)


@dataclass(frozen=True)
class Handoff:
    after: str | None  # the last entry sent so far: live entries up to it are not sent again
    more: bool  # the replay was cut at a page: ask again from `after` before going live
    required: frozenset[str]  # tags an entry must all carry (the stream's filters)
    full_with: frozenset[str]  # tags any one of which earns an entry's full frame
    viewer: Viewer | None  # None: an anonymous stream, which no sign-out can end

    def view(self, entry: Entry) -> tuple[bytes, bool] | None:
        """The frame this stream sends for a live entry, and whether it is the full one; None
        when the stream does not get the entry."""
        if not self.required <= entry.tags:
            return None
        if self.full_with & entry.tags:
            return entry.full, True
        return None if entry.public is None else (entry.public, False)

    def encode(self) -> str:
        return json.dumps({
            "after": self.after, "more": self.more, "required": sorted(self.required),
            "full_with": sorted(self.full_with),
            "viewer": None if self.viewer is None else [self.viewer.user_id, self.viewer.role]})

    @classmethod
    def decode(cls, raw: str) -> Handoff:
        """Raises ValueError for anything that is not a handoff."""
        try:
            message = json.loads(raw)
            viewer = message["viewer"]
            return cls(message["after"], bool(message["more"]), frozenset(message["required"]),
                       frozenset(message["full_with"]), None if viewer is None else Viewer(*viewer))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"not a live-stream handoff: {raw[:200]!r}") from error
