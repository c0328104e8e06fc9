"""The caller's sessions (beyond the original API): list them, end one, end all the others."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.views import MethodView
from marshmallow import fields

from auth_service.authentication import REAUTHENTICATE
from auth_service.extensions import authenticator
from tessera_shared.app import Blueprint, ErrorEnvelope, no_content
from tessera_shared.context import client_ip, require_session
from tessera_shared.platform import platform
from tessera_shared.sessions import SessionRecord
from tessera_shared.validation import Schema, Timestamp

blp = Blueprint("v0-sessions", __name__, url_prefix="/v0/auth/sessions",
                description="Sessions")


class SessionView(Schema):
    id = fields.String(required=True)
    created_at = Timestamp(required=True)
    last_seen_at = Timestamp(required=True, metadata={
        "description": "when the session was last extended (at most half a day stale)"})
    ip = fields.String(required=True)
    user_agent = fields.String(required=True)
    current = fields.Boolean(required=True)


class SessionList(Schema):
    sessions = fields.List(fields.Nested(SessionView), required=True)


def _view(record: SessionRecord, current: SessionRecord) -> dict[str, Any]:
    return {"id": record.id, "ip": record.ip, "user_agent": record.user_agent,
            "created_at": datetime.fromtimestamp(record.created_at, UTC),
            "last_seen_at": datetime.fromtimestamp(record.last_seen_at, UTC),
            "current": record.id == current.id}


@blp.route("")
class Sessions(MethodView):
    @blp.response(200, SessionList)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.requires("session")
    def get(self) -> dict[str, Any]:
        """List the signed-in user's sessions, newest first."""
        current = require_session()
        records = platform().sessions.list(current.user_id)
        return {"sessions": [_view(record, current) for record in records]}


@blp.route("/<session_id>")
class OneSession(MethodView):
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.alt_response(404, schema=ErrorEnvelope, description="session:not_found")
    @blp.requires("session")
    def delete(self, session_id: str) -> Any:
        """End one of the signed-in user's sessions (the current one too, if named); ending
        another one takes a recent sign-in, so a stolen cookie cannot throw the owner out."""
        authenticator().end_session(require_session(), session_id, ip=client_ip())
        return no_content()


@blp.route("/revoke-others")
class RevokeOthers(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema=ErrorEnvelope, description="user:unauthorized")
    @blp.alt_response(403, schema=ErrorEnvelope, description=REAUTHENTICATE)
    @blp.requires("session")
    def post(self) -> Any:
        """End every session of the signed-in user except this one (a recent sign-in is
        needed, so a stolen cookie cannot throw the owner out)."""
        authenticator().end_other_sessions(require_session(), ip=client_ip())
        return no_content()
