"""The proxy: a raw WSGI callable in front of the gateway's own Flask app.

This is the hottest code in the platform, so it stays below Flask: one route lookup, one pass
over the headers, one round trip on a pooled connection (`upstream.py`). Small answers are read
whole and sent with their length; anything else (SSE, large bodies) is streamed chunk by
chunk, unbuffered.
"""

from __future__ import annotations

import http.client
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from prometheus_client import Counter, Histogram
from werkzeug.http import parse_cookie

from gateway import websocket
from gateway.balance import Upstreams
from gateway.config import GatewaySettings
from gateway.docs import DocumentedMethods
from gateway.edge import Edge, Headers, merge
from gateway.live import FeedUnavailableError, LiveFeed, LiveStream, Reader
from gateway.routes import ROUTES, Route, match
from gateway.upstream import Connection, Response, UpstreamPool, UpstreamProtocolError
from tessera_shared import errors, internal
from tessera_shared.errors import DomainError
from tessera_shared.families import Family, family_for_path, render_error
from tessera_shared.live import HANDOFF_HEADER, Handoff
from tessera_shared.sessions import COOKIE_NAME

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding",
                        "upgrade"})
# Client headers the gateway replaces or never lets through (internal ones start X-Tessera-).
# `Expect` is answered by the gateway's own server; the service gets the whole body at once.
_DROPPED = frozenset({"HTTP_HOST", "HTTP_EXPECT", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO",
                      "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT", "HTTP_X_REAL_IP",
                      "HTTP_FORWARDED", "HTTP_X_REQUEST_ID", "HTTP_CF_CONNECTING_IP",
                      *("HTTP_" + name.upper().replace("-", "_") for name in HOP_BY_HOP)})
_INTERNAL = "HTTP_X_TESSERA_"
WHOLE_BODY_LIMIT = 1 << 20      # answers up to this size are read whole, then sent
_HANDOFF = HANDOFF_HEADER.lower()
# Families whose clients expect a 405 (with `Allow`) for a method a path does not take. The
# registry's original answers any method on /api/get/... as GET, and the users API's answers
# 422 INVALID_METHOD (403 on /api/login): their services keep to that.
_DOCUMENTED_METHODS_ONLY = frozenset({Family.V0, Family.USER_API})

REQUESTS = Counter("tessera_gateway_requests_total", "Requests proxied", ["service", "status"])
UPSTREAM_SECONDS = Histogram("tessera_gateway_upstream_seconds",
                             "Time from sending a request to a service to its response head",
                             ["service"], buckets=(.001, .0025, .005, .01, .025, .05, .1, .25,
                                                   .5, 1, 2.5, 10))


def _read_body(environ: dict, limit: int) -> bytes:
    """The whole request body, as the client meant it: a service is never sent part of one,
    nor one still in a transfer coding, as if it were all."""
    stream = environ["wsgi.input"]
    coding = environ.get("HTTP_TRANSFER_ENCODING")
    if coding is not None:
        if coding.strip().lower() != "chunked":  # e.g. "gzip, chunked": it would go on zipped
            raise errors.bad_request("The only transfer coding taken here is chunked.")
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise errors.payload_too_large(limit)
        return body
    length = environ.get("CONTENT_LENGTH")
    if not length:
        return b""
    if not (length.isascii() and length.isdigit()):
        raise errors.bad_request("The Content-Length header is not a number of bytes.")
    size = int(length)
    if size > limit:
        raise errors.payload_too_large(limit)
    body = stream.read(size)
    if len(body) < size:  # the client hung up mid-body
        raise errors.bad_request("The request body ended before its Content-Length; "
                                 "send the whole body.")
    return body


def _asks_for_websocket(environ: dict, method: str) -> bool:
    """An HTTP/1.1 GET whose `Connection` names `Upgrade` and whose `Upgrade` is `websocket`
    (RFC 6455 4.1); anything less is an ordinary request, and never tunnels. The splice needs
    the client's socket, which only the gevent worker hands over."""
    connection = {token.strip() for token in environ.get("HTTP_CONNECTION", "").lower().split(",")}
    return (method == "GET" and environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
            and "upgrade" in connection and "gunicorn.socket" in environ
            and environ.get("HTTP_UPGRADE", "").strip().lower() == "websocket")


def _passed_on(headers: list[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """A service's answer headers as the client gets them: no hop-by-hop ones, and nothing
    meant for the gateway alone."""
    for name, value in headers:
        lowered = name.lower()
        if lowered not in HOP_BY_HOP and not lowered.startswith("x-tessera-"):
            yield name, value


def _is_traversal(path: str) -> bool:
    return "/../" in path or "/./" in path or path.endswith(("/..", "/.")) or "\x00" in path


class Gateway:
    def __init__(self, app: WSGIApp, settings: GatewaySettings, upstreams: Upstreams,
                 methods: DocumentedMethods, routes: tuple[Route, ...] = ROUTES) -> None:
        self.app = app
        self.methods = methods
        self.routes = routes
        self.edge = Edge(settings)
        self.settings = settings
        self.upstreams = upstreams
        self.proto = "https" if settings.https else "http"
        self.live = LiveFeed(settings.redis)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO") or "/"
        request_id = self.edge.request_id(environ)
        edge_headers = self.edge.response_headers(environ, request_id)

        if _is_traversal(path):
            return self._error(start_response, path, errors.NOT_FOUND(), edge_headers)
        route = match(method, path, self.routes)
        if route is not None and route.refuses_foreign_origins and self.edge.is_foreign(environ):
            return self._error(start_response, path, errors.CROSS_ORIGIN_REJECTED(),
                               edge_headers)
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            start_response("204 No Content", edge_headers + self.edge.preflight_headers(environ))
            return []
        if self.edge.is_cross_site_with_session(environ, method):
            return self._error(start_response, path, errors.CROSS_SITE_REQUEST(), edge_headers)
        if family_for_path(path) in _DOCUMENTED_METHODS_ONLY and (
                allowed := self._undocumented(method, path)) is not None:
            if method == "OPTIONS":
                start_response("204 No Content", [*edge_headers, ("Allow", allowed)])
                return []
            return self._error(start_response, path, errors.METHOD_NOT_ALLOWED(
                f"{path} takes {allowed}."), [*edge_headers, ("Allow", allowed)])

        if route is None:
            return self._own(environ, start_response, request_id, edge_headers)
        return self._forward(route, environ, start_response, request_id, edge_headers)

    def _undocumented(self, method: str, path: str) -> str | None:
        """The `Allow` of a documented path that does not document `method` (or for any
        `OPTIONS`); None when the method is documented, or the path is not."""
        documented = self.methods.of(path)
        if documented is None:
            return None
        allowed = documented | {"OPTIONS"} | ({"HEAD"} if "GET" in documented else set())
        return None if method in allowed - {"OPTIONS"} else ", ".join(sorted(allowed))

    def _own(self, environ: dict, start_response: Callable, request_id: str,
             edge_headers: Headers) -> Iterable[bytes]:
        """The gateway's own endpoints (health, docs) and its 404s, with the edge's headers."""
        environ["tessera.request_id"] = request_id

        def start(status: str, headers: Headers, exc_info: object = None) -> object:
            return start_response(status, merge(headers, edge_headers), exc_info)

        return self.app(environ, start)

    @staticmethod
    def _target(environ: dict, path: str) -> str:
        raw = environ.get("RAW_URI", "")
        if raw.startswith("/"):
            return raw  # as the client wrote it, so the service decodes it the same way
        query = environ.get("QUERY_STRING")
        return quote(path) + (f"?{query}" if query else "")

    def _forwarded_headers(self, environ: dict, route: Route, request_id: str) -> Headers:
        connection = environ.get("HTTP_CONNECTION")
        named_hop = {t.strip() for t in connection.lower().split(",")} if connection else ()
        headers: Headers = []
        for key, value in environ.items():
            if not key.startswith("HTTP_") or key in _DROPPED or key.startswith(_INTERNAL):
                continue
            name = key[5:].replace("_", "-")
            if named_hop and name.lower() in named_hop:  # RFC 9110: the client's own hop headers
                continue
            headers.append((name, value))
        if environ.get("CONTENT_TYPE"):
            headers.append(("Content-Type", environ["CONTENT_TYPE"]))
        address = self.edge.client_ip(environ)
        # The service's name, as nginx sends an upstream group's: the request may go to any
        # of its instances.
        headers += [("Host", route.service),
                    ("X-Forwarded-For", address),
                    (internal.VOUCHED, internal.vouch(self.settings.internal_secret, address,
                                                      request_id)),
                    ("X-Forwarded-Proto", self.proto),
                    ("X-Forwarded-Host", environ.get("HTTP_HOST", "")),
                    ("X-Request-ID", request_id)]
        return headers

    def _request_head(self, environ: dict, route: Route, request_id: str, body: bytes, *,
                      upgrade: bool) -> bytes:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        headers = self._forwarded_headers(environ, route, request_id)
        if upgrade:
            headers += [("Upgrade", "websocket"), ("Connection", "Upgrade")]
        if body or method in {"POST", "PUT", "PATCH"}:
            headers.append(("Content-Length", str(len(body))))
        return "".join((f"{method} {self._target(environ, path)} HTTP/1.1\r\n",
                        *(f"{name}: {value}\r\n" for name, value in headers),
                        "\r\n")).encode("latin-1")

    def _forward(self, route: Route, environ: dict, start_response: Callable, request_id: str,
                 edge_headers: Headers) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        if route.live and method == "GET":
            return self._live(route, environ, start_response, request_id, edge_headers)
        upgrade = route.websocket and _asks_for_websocket(environ, method)
        try:
            body = _read_body(environ, route.max_body)
            head = self._request_head(environ, route, request_id, body, upgrade=upgrade)
            exchange = self._exchange(route, head, body, method=method)
        except DomainError as error:
            return self._error(start_response, path, error, edge_headers)

        response = exchange.response
        REQUESTS.labels(route.service, str(response.status)).inc()
        if response.upgraded:
            if upgrade:
                return websocket.splice(environ["gunicorn.socket"], exchange.connection,
                                        response)
            exchange.release()
            return self._error(start_response, path, errors.BAD_GATEWAY(
                f"The {route.service} service switched protocols unasked."), edge_headers)
        response_headers = merge(_passed_on(response.headers), edge_headers)
        status = f"{response.status} {response.reason}"
        if response.length is not None and response.length <= WHOLE_BODY_LIMIT:
            try:
                data = self._read_whole(route.service, exchange)
            except DomainError as error:
                return self._error(start_response, path, error, edge_headers)
            start_response(status, response_headers)
            return [data]
        exchange.connection.settimeout(self.settings.stream_idle_timeout)
        start_response(status, response_headers)
        return _Stream(exchange)

    def _live(self, route: Route, environ: dict, start_response: Callable, request_id: str,
              edge_headers: Headers) -> Iterable[bytes]:
        """A live stream: subscribed before the service is asked, so that nothing published
        while it replays is missed; then held here, fed by the worker's one subscription."""
        path = environ.get("PATH_INFO") or "/"
        try:
            _read_body(environ, route.max_body)  # a GET's body is nobody's, but never left unread
            subscription = self.live.subscribe()
        except DomainError as error:
            return self._error(start_response, path, error, edge_headers)
        except FeedUnavailableError:
            return self._error(start_response, path, errors.SERVICE_UNAVAILABLE(
                "The live stream is unavailable right now; reconnect in a few seconds."),
                edge_headers)
        try:
            response, replay, handoff = self._live_page(route, environ, request_id)
        except DomainError as error:
            self.live.unsubscribe(subscription)
            return self._error(start_response, path, error, edge_headers)
        REQUESTS.labels(route.service, str(response.status)).inc()
        status = f"{response.status} {response.reason}"
        headers = merge(_passed_on(response.headers), edge_headers)
        if handoff is None:  # the service answered something else (a refusal)
            self.live.unsubscribe(subscription)
            start_response(status, headers)
            return [replay]

        def next_page(after: str) -> tuple[Handoff, bytes] | None:
            try:
                _, page, more = self._live_page(route, {**environ, "HTTP_LAST_EVENT_ID": after},
                                                request_id)
            except DomainError:
                return None  # the client reconnects from the last entry it got
            return None if more is None else (more, page)

        start_response(status, [(name, value) for name, value in headers
                                if name.lower() != "content-length"])
        # Direct writes are chunks in the clear: only where gunicorn answers in chunks
        # (HTTP/1.1), on a socket without TLS.
        chunked = (environ.get("SERVER_PROTOCOL") == "HTTP/1.1"
                   and environ.get("wsgi.url_scheme") == "http")
        return LiveStream(self.live, subscription, (handoff, replay), next_page,
                          Reader(parse_cookie(environ).get(COOKIE_NAME),
                                 environ.get("gunicorn.socket") if chunked else None))

    def _live_page(self, route: Route, environ: dict,
                   request_id: str) -> tuple[Response, bytes, Handoff | None]:
        """The service's answer to a stream's request, read whole, and the handoff it makes
        (None if it made none). Raises the DomainError the client is to get."""
        head = self._request_head(environ, route, request_id, b"", upgrade=False)
        exchange = self._exchange(route, head, b"", method="GET")
        response = exchange.response
        if response.length is None or response.length > WHOLE_BODY_LIMIT:
            exchange.release()
            raise errors.BAD_GATEWAY(f"The {route.service} service streamed a live answer.")
        body = self._read_whole(route.service, exchange)
        offered = next((value for name, value in response.headers
                        if name.lower() == _HANDOFF), None)
        if response.status != 200 or offered is None:
            return response, body, None
        try:
            return response, body, Handoff.decode(offered)
        except ValueError:
            raise errors.BAD_GATEWAY(
                f"The {route.service} service handed over a stream it did not describe."
            ) from None

    @staticmethod
    def _read_whole(service: str, exchange: _Exchange) -> bytes:
        """An answer's body, its connection given back to the pool; raises the error the
        client is to get."""
        try:
            return exchange.response.read()
        except TimeoutError:
            raise errors.GATEWAY_TIMEOUT(
                f"The {service} service took too long to answer.") from None
        except (OSError, UpstreamProtocolError):
            raise errors.BAD_GATEWAY() from None
        finally:
            exchange.release()

    def _exchange(self, route: Route, head: bytes, body: bytes, *, method: str) -> _Exchange:
        """Send a request to the service's next instance and read its answer's head. Raises
        the error the client is to get. Sent again only where the service cannot have acted
        on it, or acting twice is harmless:
        - an instance that refuses the connection: to the next instance (any method: nothing
          was sent);
        - a pooled connection the instance had closed: on a fresh one, if idempotent;
        - a connection dropped before any byte of an answer (the instance went down with
          the request): to the next instance, if idempotent and the route allows it.
        At most one other instance is tried."""
        service = route.service
        instances = self.upstreams[service]
        candidates = instances.in_turn()
        instance, spare = next(candidates), next(candidates, None)
        started = time.perf_counter()
        fresh = False
        while True:  # ends: a fresh connection is never stale, and the spare is taken once
            try:
                connection, reused = ((instance.pool.connect(), False) if fresh
                                      else instance.pool.acquire())
            except OSError:
                instance.refused()
                error = errors.SERVICE_UNAVAILABLE(
                    f"The {service} service is not accepting connections.")
                if spare is None:
                    break
                instance, spare, fresh = spare, None, False
                continue
            try:
                response = connection.request(head, body, bodiless=method == "HEAD")
            except TimeoutError:
                error = errors.GATEWAY_TIMEOUT(f"The {service} service took too long to answer.")
            except ConnectionError:
                idempotent = method in internal.IDEMPOTENT
                if idempotent and (reused or (route.resend and spare is not None)):
                    instance.pool.release(connection)
                    if reused:
                        fresh = True
                    else:
                        instance, spare, fresh = spare, None, False
                    continue
                error = errors.BAD_GATEWAY(f"The {service} service dropped the connection.")
            except (OSError, UpstreamProtocolError):
                error = errors.BAD_GATEWAY()
            else:
                UPSTREAM_SECONDS.labels(service).observe(time.perf_counter() - started)
                return _Exchange(instance.pool, connection, response)
            instance.pool.release(connection)
            break
        REQUESTS.labels(service, str(error.status)).inc()
        raise error

    @staticmethod
    def _error(start_response: Callable, path: str, error: DomainError,
               edge_headers: Headers) -> list[bytes]:
        status, body = render_error(path, error)
        start_response(f"{status} {http.client.responses.get(status, '')}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(body))), *edge_headers])
        return [body]


@dataclass(frozen=True)
class _Exchange:
    """A request sent on a connection of an instance's pool, and its answer."""

    pool: UpstreamPool
    connection: Connection
    response: Response

    def release(self) -> None:
        """Back to its pool, which keeps it only if the answer was read to its end."""
        self.pool.release(self.connection)


class _Stream:
    """A response body passed on as it arrives. Its connection goes back to the pool only if
    the body was read to its end (`UpstreamPool.release` decides)."""

    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.exchange.response.stream()
        except (OSError, UpstreamProtocolError) as error:
            # The service broke off: raising makes gunicorn cut the client's connection, so a
            # truncated body can never pass for a whole one (nor a chunked one be ended).
            raise UpstreamProtocolError(f"the service broke off its answer ({error})") from None

    def close(self) -> None:
        self.exchange.release()  # closed, unless the body was read to its end
