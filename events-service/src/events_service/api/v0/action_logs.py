"""v0 action log: `GET /v0/action-logs` and the live `GET /v0/eventstream/actions`."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import fields, validate

from events_service import actions
from events_service.live import frame
from events_service.models import db
from tessera_shared import live
from tessera_shared.app import Blueprint
from tessera_shared.context import current_session
from tessera_shared.live import HANDOFF_HEADER, Handoff
from tessera_shared.sessions import SessionRecord
from tessera_shared.validation import Schema

blp = Blueprint("v0-action-logs", __name__, url_prefix="/v0", description="Action logs")
REPLAY_PAGE = 500  # entries replayed per answer; the gateway asks again for the next page
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
        """Live action-log entries (SSE), held open by the gateway. Reconnect with
        `Last-Event-ID` to get what was missed, in order, with no entry twice."""
        session = current_session()
        who, wanted = viewer_of(session), filters(args)
        last = request.headers.get("Last-Event-ID", "").strip().lower()
        if not ENTRY_ID.match(last) or not actions.stored(db.session, last):
            last = None  # not an entry we gave: start from now rather than never send anything
        missed = actions.replay(db.session, who, wanted, last, REPLAY_PAGE) if last else []
        handoff = Handoff(
            after=missed[-1].id if missed else last, more=len(missed) == REPLAY_PAGE,
            required=actions.required_tags(wanted), full_with=actions.full_view_tags(who),
            viewer=None if session is None else live.Viewer(session.user_id, session.role))
        replay = b"".join(frame(actions.shown(actions.as_record(entry), who))
                          for entry in missed)
        return Response(replay, content_type="text/event-stream", headers={
            HANDOFF_HEADER: handoff.encode(), "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no"})
