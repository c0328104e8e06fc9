"""One OpenAPI document for the whole platform (`/swagger.json`) and Swagger UI (`/docs`),
served from the wheel's own assets so it works with no network."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import flask_swagger_ui
import urllib3
from flask import Blueprint, Response, current_app, send_from_directory

from gateway import extensions
from gateway.balance import Upstreams
from gateway.routes import match

SWAGGER_DIST = Path(flask_swagger_ui.__file__).with_name("dist")
STATIC = Path(__file__).with_name("static")
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'")

blueprint = Blueprint("docs", __name__)


def _rename_refs(node: Any, section: str, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: (_renamed(value, section, renames) if key == "$ref"
                      else _rename_refs(value, section, renames)) for key, value in node.items()}
    if isinstance(node, list):
        return [_rename_refs(item, section, renames) for item in node]
    return node


def _renamed(ref: Any, section: str, renames: dict[str, str]) -> Any:
    prefix = f"#/components/{section}/"
    if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix):] in renames:
        return prefix + renames[ref[len(prefix):]]
    return ref


def merge_specs(specs: dict[str, dict[str, Any]], public_url: str) -> dict[str, Any]:
    """Merge the services' documents, keeping only the paths the gateway routes to each.
    Components with one name but different content across services get the service's name
    as a prefix; identical ones are shared."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Tessera", "version": "v0",
                 "description": "Identity platform: the v0, registry, user and users APIs."},
        "servers": [{"url": public_url}],
        "paths": {}, "components": {}, "tags": [],
    }
    for service, original in specs.items():
        spec = original
        for section, components in original.get("components", {}).items():
            target = merged["components"].setdefault(section, {})
            renames = {name: f"{service.title()}{name}" for name, value in components.items()
                       if name in target and target[name] != value}
            spec = _rename_refs(spec, section, renames)
            for name, value in spec["components"][section].items():
                target[renames.get(name, name)] = value
        for path, operations in spec.get("paths", {}).items():
            concrete = path.replace("{", "").replace("}", "")
            routed = {method: operation for method, operation in operations.items()
                      if (route := match(method.upper(), concrete)) and route.service == service}
            if routed:
                merged["paths"].setdefault(path, {}).update(routed)
        known = {tag["name"] for tag in merged["tags"]}
        merged["tags"] += [tag for tag in spec.get("tags", []) if tag["name"] not in known]
    return merged


class SpecCache:
    """The merged document, fetched from the services on first use; kept once complete."""

    def __init__(self, upstreams: Upstreams, public_url: str) -> None:
        self.upstreams = upstreams
        self.public_url = public_url
        self.http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=3))
        self.spec: dict[str, Any] | None = None

    def get(self) -> tuple[dict[str, Any], bool]:
        if self.spec is not None:
            return self.spec, True
        specs = {}
        for name in self.upstreams.services:
            # Every instance of a service runs the same code: any that answers will do.
            for instance in self.upstreams[name].in_turn():
                try:
                    response = self.http.request("GET", f"{instance.upstream.url}/openapi.json")
                except urllib3.exceptions.HTTPError:
                    continue
                if response.status == 200:
                    specs[name] = json.loads(response.data)
                    break
        merged = merge_specs(specs, self.public_url)
        complete = len(specs) == len(self.upstreams.services)
        if complete:
            self.spec = merged
        return merged, complete


class DocumentedMethods:
    """Which methods the merged document gives a path: what the gateway answers `OPTIONS`
    with, and a `405` for any other method (in the families that answer so; see the proxy).
    A path matches its most specific template (literal segments before parameters). Known only
    once every service has given its document; asked again at most every few seconds."""

    RETRY_SECONDS = 5.0

    def __init__(self, cache: SpecCache) -> None:
        self.cache = cache
        self.exact: dict[str, frozenset[str]] | None = None
        self.templates: list[tuple[re.Pattern[str], frozenset[str]]] = []
        self.next_try = 0.0

    def of(self, path: str) -> frozenset[str] | None:
        if self.exact is None and not self._load():
            return None
        assert self.exact is not None
        if path in self.exact:
            return self.exact[path]
        return next((methods for pattern, methods in self.templates
                     if pattern.fullmatch(path)), None)

    def _load(self) -> bool:
        if time.monotonic() < self.next_try:
            return False
        spec, complete = self.cache.get()
        if not complete:
            self.next_try = time.monotonic() + self.RETRY_SECONDS
            return False
        exact, templates = {}, []
        for path, operations in spec["paths"].items():
            methods = frozenset(m.upper() for m in operations if m != "parameters")
            if "{" not in path:
                exact[path] = methods
            else:
                pattern = re.compile("/".join("[^/]+" if part.startswith("{")
                                              else re.escape(part) for part in path.split("/")))
                templates.append((path.count("{"), pattern, methods))
        self.templates = [(pattern, methods) for _, pattern, methods in sorted(
            templates, key=lambda item: item[0])]
        self.exact = exact
        return True


@blueprint.get("/swagger.json")
def swagger_json() -> Response:
    spec, complete = extensions.spec_cache().get()
    response = current_app.json.response(spec)
    if not complete:
        response.headers["Warning"] = '199 - "some services did not answer; the spec is partial"'
    return response


@blueprint.get("/docs")
def swagger_ui() -> Response:
    response = send_from_directory(STATIC, "docs.html", max_age=0)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@blueprint.get("/docs/assets/<path:name>")
def swagger_assets(name: str) -> Response:
    folder = STATIC if name == "docs.js" else SWAGGER_DIST
    response = send_from_directory(folder, name, max_age=3600)
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
