"""The base every service app is built on: configuration, logs, request ids, errors in each
family's envelope, database, Redis, health, metrics and OpenAPI (flask-smorest)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from inspect import iscoroutinefunction
from typing import Any, ClassVar

import flask_smorest
import sqlalchemy as sa
from flask import Flask, Request, Response, current_app, g, jsonify, request
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from marshmallow import fields
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_cookie

from tessera_shared import client_json, health, ids, internal, limits, logs, metrics, openapi
from tessera_shared.client_json import ClientJSONProvider
from tessera_shared.config import Settings
from tessera_shared.consumer import EventConsumer, Handler, Timing
from tessera_shared.context import ANONYMOUS_COOKIE, browser_id
from tessera_shared.db import database_url, engine_options, tune
from tessera_shared.errors import (
    DATABASE_UNAVAILABLE,
    INTERNAL_ERROR,
    DomainError,
    from_http_status,
)
from tessera_shared.families import Family, family_for_path, render_error, user_api_body
from tessera_shared.internal import InternalClient
from tessera_shared.platform import Platform
from tessera_shared.redis import connect
from tessera_shared.relay import OutboxRelay
from tessera_shared.sessions import SessionStore
from tessera_shared.throttle import Throttle
from tessera_shared.validation import Schema, classify

log = logging.getLogger(__name__)
access_log = logging.getLogger("tessera.access")

MAX_INTERNAL_BODY = 8 << 20
VISITOR_COOKIE_AGE = 365 * 24 * 3600


class ServiceFlask(Flask):
    """Flask, asking once per function whether a hook or view is a coroutine function."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Flask asks `inspect` for every hook and view on every request, about ten times a
        # request here; the answer never changes. A view's method is bound afresh each time,
        # so its function is the key.
        if _synchronous(getattr(func, "__func__", func)):
            return func
        return super().ensure_sync(func)


@functools.cache
def _synchronous(func: Callable[..., Any]) -> bool:
    return not iscoroutinefunction(func)


def no_content() -> Response:
    """204 with no body and so no Content-Type."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


def error_response(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    status, body = render_error(request.path, error)
    return Response(body, status=status, headers=headers, content_type="application/json")


def _raw_arguments(location: str) -> Any:
    if location == "json" or (location == "json_or_form" and is_json_request(request)):
        return request.get_json(silent=True)
    if location in {"form", "json_or_form"}:
        return request.form.to_dict()
    if location == "query":
        return request.args.to_dict()
    if location in {"path", "view_args"}:
        return request.view_args
    return None


class ErrorEnvelope(Schema):
    """The v0 error envelope, as the OpenAPI document shows it."""

    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"example": "general:validation_error"})
    details = fields.String()


class RegistryLog(Schema):
    message = fields.String(required=True)
    log_level = fields.Integer(required=True, metadata={
        "description": "0 a user's own action; 1 an Omikron's call or a failure"})


class RegistryFailure(Schema):
    """The registry's refusal (documents 000 and 001)."""

    type = fields.Constant("error", required=True)
    log = fields.Nested(RegistryLog, required=True)


class UsersApiEnvelope(Schema):
    """The users API's envelope (document 004), answers and refusals alike."""

    success = fields.Raw(required=True, metadata={"description": 'true or false; "true" or '
                                                                 '"false" in a few answers'})
    data = fields.Dict(required=True, metadata={"description": "{message: code or object}"})


class UserApiEnvelope(Schema):
    """The user API's envelope (document 003), answers and refusals alike."""

    statusCode = fields.String(required=True, metadata={"example": "200"})  # noqa: N815
    message = fields.String(required=True)
    data = fields.Raw(required=True, metadata={
        "description": 'the string "null", "true" or "false", or an object'})


def user_api_answer(status: int, message: str, data: Any = "null") -> Response:
    response = jsonify(user_api_body(status, message, data))
    response.status_code = status
    return response


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # the original APIs answer bad input with 400, not 422

    def _raw_load_json(self, req: Request) -> Any:
        """The body as JSON, read by the same rules as everywhere else (`client_json`)."""
        if not is_json_request(req):
            return missing
        return client_json.loads(req.get_data(cache=True))


PARSER = _Parser()  # smorest's views and the services' plain ones (internal.py) alike


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, documenting and answering bad arguments as 400."""

    ARGUMENTS_PARSER = PARSER
    # A body that may come as JSON or as a form (the users API) is documented as JSON here;
    # its view adds the form.
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING: ClassVar[dict[str, str]] = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "json_or_form": "application/json"}

    def requires(self, scheme: str) -> Any:
        """Document that the operation takes the caller's credential (a name in
        `openapi.SECURITY_SCHEMES`) and refuses it without one."""
        assert scheme in openapi.SECURITY_SCHEMES, scheme
        return self.doc(security=[{scheme: []}])

    def arguments(self, schema: Any, **options: Any) -> Any:
        # Given a schema class, webargs makes an instance of it for every request; one made
        # here serves them all (loading keeps no state on the schema).
        return super().arguments(schema() if isinstance(schema, type) else schema, **options)


class ServiceApi(Api):
    """flask-smorest's Api answering every HTTP error in the request's family envelope."""

    ERROR_SCHEMA = ErrorEnvelope

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        # The other families' envelopes, beside the v0 one flask-smorest registers itself.
        for schema in (RegistryFailure, UserApiEnvelope, UsersApiEnvelope):
            self.spec.components.schema(schema.__name__, schema=schema)

    def _openapi_json(self) -> Response:
        return current_app.json.response(openapi.by_family(self.spec.to_dict()))

    def handle_http_exception(self, error: HTTPException) -> Response:  # type: ignore[override]
        data: dict[str, Any] = getattr(error, "data", None) or {}
        code = error.code or 500
        if "messages" in data:
            # webargs keys the messages by where it looked: the body, the query or the path.
            location, messages = next(iter(data["messages"].items()))
            domain = classify(data.get("schema"), _raw_arguments(location), messages)
        else:
            domain = from_http_status(code, request.method, request.path, error.description)
        headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
        return error_response(domain, headers)


def create_service_app(import_name: str, settings: Settings, db: SQLAlchemy,
                       *, title: str) -> tuple[Flask, ServiceApi]:
    """A Flask app wired to the platform; the service adds its blueprints to the returned Api."""
    app = ServiceFlask(import_name)
    app.json = ClientJSONProvider(app)
    url = database_url(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(url),
        MAX_CONTENT_LENGTH=limits.REQUEST_BODY,
        API_TITLE=title,
        API_VERSION="v0",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    logs.configure(settings.service)

    db.init_app(app)
    redis = connect(settings.redis)
    with app.app_context():
        engine = tune(db.engine)
    Platform(
        settings=settings, engine=engine, redis=redis, sessions=SessionStore(redis),
        internal=InternalClient(settings.service, settings.internal_secret,
                                settings.service_urls),
        throttle=Throttle(redis),
        background=[OutboxRelay(engine, redis, settings.service)]).init_app(app)

    _register_request_hooks(app, settings)
    _register_error_handlers(app)
    metrics.instrument(app, settings.service)
    app.register_blueprint(health.blueprint)
    return app, ServiceApi(app)


def add_consumer(app: Flask, *, group: str, handlers: Mapping[str, Handler]) -> None:
    """Have each worker apply the stream's events of the given types, in consumer group `group`."""
    platform = Platform.of(app)
    timing = Timing()
    platform.background.append(EventConsumer(
        platform.engine, connect(platform.settings.redis, blocking_ms=timing.block_ms),
        group, handlers, timing))


def _register_request_hooks(app: Flask, settings: Settings) -> None:
    # One hook each way (metrics adds its own): Flask pays for every registered hook on
    # every request.
    @app.before_request
    def _begin_request() -> None:
        g.started = time.perf_counter()
        headers = request.headers
        g.request_id = ids.request_id(headers.get("X-Request-ID", ""))
        g.client_ip = (internal.vouched_address(settings.internal_secret, headers)
                       or request.remote_addr or "")
        if request.path.startswith("/internal/"):
            _authenticate_internal_call(app, settings)

    @app.after_request
    def _finish_request(response: Response) -> Response:
        _keep_location_public(response)
        _mark_anonymous_visitor(response, secure=settings.secure_cookies)
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
            access_log.info("%s %s %s", request.method, request.path, response.status_code,
                            extra={"status": response.status_code, "duration_ms": round(
                                (time.perf_counter() - g.started) * 1000, 2)})
        return response


def _authenticate_internal_call(app: Flask, settings: Settings) -> None:
    # Services pass images to each other as base64; the signature covers the body.
    request.max_content_length = MAX_INTERNAL_BODY
    call = internal.Call(request.method, request.full_path.rstrip("?"), request.get_data())
    g.caller = internal.verify(settings.internal_secret, Platform.of(app).redis, call,
                               request.headers)


def _keep_location_public(response: Response) -> None:
    # Werkzeug's own redirects (merged slashes, a missing trailing one) name this service's
    # address, which is the gateway's upstream, not the client's: keep the path.
    location = response.headers.get("Location")
    if location and location.startswith(request.host_url):
        response.headers["Location"] = "/" + location.removeprefix(request.host_url)


def _mark_anonymous_visitor(response: Response, *, secure: bool) -> None:
    # The v0 original gives every client a long-lived random id before any sign-in; OAuth
    # state and pending sign-ups are bound to it. Never on an answer that shared caches keep
    # (media, page assets): every client would be handed the same id.
    if family_for_path(request.path) is not Family.V0:
        return
    visitor = browser_id()
    if request.cookies.get(ANONYMOUS_COOKIE) == visitor:
        return
    # Parsed only when there is one: most answers carry no Cache-Control.
    if "Cache-Control" not in response.headers or not response.cache_control.public:
        # Max-Age alone, as the original sends it: an Expires date would be formatted for
        # every cookieless client (12 of dump_cookie's 18 µs here).
        response.headers.add("Set-Cookie", dump_cookie(
            ANONYMOUS_COOKIE, visitor, max_age=VISITOR_COOKIE_AGE, sync_expires=False,
            httponly=True, samesite="Lax", secure=secure))


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return error_response(error)

    # The database is down, restarting or out of connections: the request may be tried again
    # (the pool checks each connection before use, so it finds a restarted server by itself).
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    def _database_unavailable(error: sa.exc.SQLAlchemyError) -> Response:
        log.warning("database unavailable: %s", error.__cause__ or error, exc_info=error)
        return error_response(DATABASE_UNAVAILABLE())

    @app.errorhandler(Exception)  # HTTPExceptions have ServiceApi's more specific handler
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(INTERNAL_ERROR())
