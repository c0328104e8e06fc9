"""The pages behind the links in Tessera's mails (`{PUBLIC_URL}/verify-email?token=...`, ...).

Static HTML and one script: the script sends the link's token to the v0 API and says what
happened. Nothing is inlined, so the pages run under a `script-src 'self'` policy.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

FOLDER = Path(__file__).with_name("pages")
POLICY = ("default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
          "object-src 'none'")
PAGES = ("verify-email", "reset-password", "confirm-email-change", "report-email-change")

blueprint = Blueprint("pages", __name__)


def _served(name: str, max_age: int) -> Response:
    response = send_from_directory(FOLDER, name, max_age=max_age)
    response.headers["Content-Security-Policy"] = POLICY
    return response


def _page(name: str) -> Response:
    response = _served(f"{name}.html", 0)
    response.headers["Cache-Control"] = "no-store"  # the URL carries a token
    return response


for _name in PAGES:
    blueprint.add_url_rule(f"/{_name}", _name, lambda name=_name: _page(name))


@blueprint.get("/pages/assets/<any('pages.js', 'pages.css'):asset>")
def asset(asset: str) -> Response:
    return _served(asset, 3600)
