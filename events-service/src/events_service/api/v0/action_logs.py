"""v0 action log: `GET /v0/action-logs` and the live `GET /v0/eventstream/actions`."""

from __future__ import annotations

import json
import queue
import re
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView
from marshmallow import fields, validate

from events_service import actions
from events_service.extensions import broadcaster as live_broadcaster
from events_service.models import db
from tessera_shared.app import Blueprint
from tessera_shared.context import current_session
from tessera_shared.platform import platform
from tessera_shared.sessions import COOKIE_NAME, SessionRecord
from tessera_shared.validation import Schema

blp = Blueprint("v0-action-logs", __name__, url_prefix="/v0", description="Action logs")
KEEP_ALIVE_SECONDS = 15
ENTRY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class FilterArgs(Schema):
    user_id = fields.UUID()
    resource_id = fields.UUID()
    resource_type = fields.Enum(actions.ResourceType, by_value=True)


class PageArgs(FilterArgs):
    limit = fields.Integer(required=True, validate=validate.Range(min=1, max=100))
    cursor_id = fields.UUID()
    cursor_direction = fields.Enum(actions.Direction, by_value=True)


class ActionLogResponse(Schema):
    id = fields.String(required=True)
    action = fields.String(required=True)
    actor_id = fields.String(allow_none=True)
    actor_ip = fields.String(allow_none=True, metadata={"example": "203.0.113.7/32"})
    resource_type = fields.String(required=True)
    resource_id = fields.String(allow_none=True)
    summary = fields.String(required=True)
    metadata = fields.Dict(allow_none=True)
    created_at = fields.String(required=True)


class ActionLogPage(Schema):
    data = fields.List(fields.Nested(ActionLogResponse), required=True)
    has_newer = fields.Boolean(required=True)
    has_older = fields.Boolean(required=True)


def viewer_of(session: SessionRecord | None) -> actions.Viewer:
    if session is None:
        return actions.Viewer(None)
    return actions.Viewer(session.user_id, admin=session.role == "admin")


def viewer() -> actions.Viewer:
    return viewer_of(current_session())


def filters(args: dict[str, Any]) -> actions.Filters:
    return actions.Filters(
        user_id=str(args["user_id"]) if args.get("user_id") else None,
        resource_id=str(args["resource_id"]) if args.get("resource_id") else None,
        resource_type=args.get("resource_type"))


def frame(entry: dict[str, Any]) -> bytes:
    return (f"event: action_log\nid: {entry['id']}\n"
            f"data: {json.dumps(entry, separators=(',', ':'))}\n\n").encode()


@blp.route("/action-logs")
class ActionLogs(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ActionLogPage)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Recent action-log entries, newest first, by keyset pages."""
        who = viewer()
        found = actions.page(db.session, who, filters(args), actions.Window(
            limit=args["limit"],
            cursor=str(args["cursor_id"]) if args.get("cursor_id") else None,
            direction=args.get("cursor_direction", actions.Direction.OLDER)))
        return {"data": [actions.shown(actions.as_record(e), who) for e in found.entries],
                "has_newer": found.has_newer, "has_older": found.has_older}


@blp.route("/eventstream/actions")
class ActionStream(MethodView):
    @blp.arguments(FilterArgs, location="query")
    @blp.response(200, content_type="text/event-stream")
    def get(self, args: dict[str, Any]) -> Response:
        """Live action-log entries (SSE). Reconnect with `Last-Event-ID` to get what was
        missed, in order, with no entry twice."""
        who, wanted = viewer(), filters(args)
        last = request.headers.get("Last-Event-ID", "").strip().lower()
        if not ENTRY_ID.match(last):
            last = None  # not an id we gave: start from now rather than never send anything
        broadcaster = live_broadcaster()
        token = request.cookies.get(COOKIE_NAME)

        def still_the_viewer() -> bool:
            """The session the stream opened with is still live, with the same rights (a
            logout, a revoked session or a changed role ends what it may read)."""
            # Without refreshing it: an open tab alone must not keep a session alive.
            return who.user_id is None or viewer_of(
                platform().sessions.read(token, refresh=False)) == who

        def events() -> Iterator[bytes]:
            # Subscribed only once the body is read (never for HEAD), before the replay, so
            # nothing falls between the two.
            subscription = broadcaster.subscribe()
            sent = last
            try:
                yield b": connected\n\n"
                if sent is not None:
                    while missed := actions.replay(db.session, who, wanted, sent):
                        for entry in missed:
                            yield frame(actions.shown(actions.as_record(entry), who))
                        sent = missed[-1].id
                    db.session.remove()  # no database connection held while streaming
                while not subscription.overflowed:
                    try:
                        live = subscription.entries.get(timeout=KEEP_ALIVE_SECONDS)
                    except queue.Empty:
                        if not still_the_viewer():
                            return
                        yield b": keep-alive\n\n"
                        continue
                    record = live.record
                    if (sent is not None and record["id"] <= sent) or not actions.visible(
                            record, who, wanted):
                        continue
                    full = who.sees_everything_of(record)  # shown for who is reading
                    if full and not still_the_viewer():
                        return  # the client reconnects, and reads as whoever it now is
                    yield live.frame(full, lambda full, r=record:
                                     frame(actions.render(r, full=full)))
                    sent = record["id"]
            finally:
                broadcaster.unsubscribe(subscription)

        return Response(stream_with_context(events()), content_type="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
