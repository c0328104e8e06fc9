"""The account console (`/`): one static page whose views are templates, and its module
scripts and style, served by the gateway under a strict policy: scripts and styles from this
origin only, nothing inline, no request to any other origin. No build step: the files in
`console/` are what the browser gets (see docs/console.md)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

FOLDER = Path(__file__).with_name("console")
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
          "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
          "object-src 'none'")
# The paths of the page's views: a reload or a shared link lands on the same view.
VIEWS = ("/", "/signin", "/signup", "/forgot-password", "/account", "/people", "/activity")
# Views whose address carries a secret: the links in Tessera's mails
# (`{PUBLIC_URL}/verify-email?token=...`) and the providers' answers (`?code=...`).
SECRET_BEARING = ("/verify-email", "/reset-password", "/confirm-email-change",
                  "/report-email-change", "/oauth/google/callback", "/oauth/github/callback")

blueprint = Blueprint("console", __name__)


def _served(name: str, max_age: int) -> Response:
    response = send_from_directory(FOLDER, name, max_age=max_age)
    response.headers["Content-Security-Policy"] = POLICY
    return response


def page() -> Response:
    response = _served("index.html", 0)
    response.headers["Cache-Control"] = "no-cache"  # a new release is seen at once
    return response


def secret_bearing_page() -> Response:
    response = page()
    response.headers["Cache-Control"] = "no-store"
    return response


for _path in VIEWS:
    blueprint.add_url_rule(_path, f"view{_path.replace('/', '_')}", page)
for _path in SECRET_BEARING:
    blueprint.add_url_rule(_path, f"view{_path.replace('/', '_')}", secret_bearing_page)
blueprint.add_url_rule("/u/<path:_handle>", "person", lambda _handle: page())


@blueprint.get("/console/<any('app.js', 'api.js', 'console.css'):asset>")
def asset(asset: str) -> Response:
    return _served(asset, 3600)
