"""The gateway: the platform's one public door. It proxies each public path to the service
that owns it (`routes.ROUTES`), and itself serves health, the merged OpenAPI and Swagger UI."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from werkzeug.exceptions import HTTPException

from gateway import console, docs, health
from gateway.balance import Upstreams
from gateway.config import GatewaySettings
from gateway.extensions import Helpers
from gateway.proxy import Gateway
from tessera_shared import logs
from tessera_shared.errors import from_http_status
from tessera_shared.families import render_error
from tessera_shared.metrics import exposition


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    app = Flask(__name__)
    logs.configure("gateway")
    upstreams = Upstreams(settings)
    spec = docs.SpecCache(upstreams, settings.public_url)
    Helpers(spec, upstreams).init_app(app)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        domain = from_http_status(error.code or 500, request.method, request.path,
                                  error.description)
        status, body = render_error(request.path, domain)
        return Response(body, status=status, content_type="application/json")

    @app.get("/metrics")
    def metrics() -> Response:
        """Only for a scraper on this host, never for a client coming through a proxy."""
        local = (request.remote_addr or "").startswith("127.")
        if not local or "X-Forwarded-For" in request.headers:
            abort(404)
        return Response(exposition(), content_type="text/plain; version=0.0.4")

    app.register_blueprint(health.blueprint)
    app.register_blueprint(docs.blueprint)
    app.register_blueprint(console.blueprint)
    app.wsgi_app = Gateway(  # type: ignore[method-assign]
        app.wsgi_app, settings, upstreams, docs.DocumentedMethods(spec))
    return app
