"""Every error id events-service answers with. It has none of its own: a reader without a
session, a bad filter or a bad `Last-Event-ID` is answered with the platform-wide ids
(`tessera_shared.errors`), or, for the last, with the stream from now."""

from __future__ import annotations
