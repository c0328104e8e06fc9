"""A real OAuth 2.0 / OpenID Connect provider on loopback, built with authlib's server side,
for the social sign-in tests: Tessera's client code talks to it exactly as to the real ones.

One `Provider` has one face:
- `google`: OIDC discovery (`/.well-known/openid-configuration`), `/o/oauth2/v2/auth`,
  `/token`, `/jwks`, and a signed `id_token` (RS256) with `email_verified`;
- `github`: `/login/oauth/authorize`, `/login/oauth/access_token`, and the REST API under
  `/api` (`/api/user`, `/api/user/emails`).

Both require PKCE (S256): a token request with a wrong or missing `code_verifier` fails.
People sign in at the provider by being named in the authorization request, as the real
providers' hints do (`login_hint=` for Google, `login=` for GitHub), or, for a browser that
names nobody, as `signed_in`; consent is automatic.
`down = True` makes every endpoint answer 503, as a provider in trouble does; `replies` puts
a canned answer on a path; `signing_key` and `id_token_claims` change the ID tokens it issues
(to test that they are checked).
"""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, Response, abort, jsonify, request
from joserfc.jwk import KeySet, RSAKey
from PIL import Image
from werkzeug.serving import make_server

CLIENT_ID = "tessera-test-client"
CLIENT_SECRET = secrets.token_urlsafe(24)
KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})


@dataclass
class Person:
    """An account at the provider."""

    key: str  # what the authorization request names them by
    id: str
    email: str | None
    email_verified: bool = True
    name: str | None = None
    login: str | None = None
    # GitHub's /user/emails; by default the profile's address, primary and as verified.
    emails: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Client(ClientMixin):
    redirect_uris: list[str]
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    person: Person
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.issued_at)


class Provider:
    """One provider face served on a free loopback port until `stop()`."""

    def __init__(self, face: str) -> None:
        assert face in {"google", "github"}
        self.face = face
        self.people: dict[str, Person] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Person] = {}
        self.redirect_uris: list[str] = []
        self.down = False
        self.replies: dict[str, Response] = {}  # path -> a canned answer (a provider misbehaving)
        self.signed_in: Person | None = None  # who a browser without a hint is at the provider
        # What the next ID tokens are signed with and claim on top (tests of their checks).
        self.signing_key = KEY
        self.id_token_claims: dict[str, Any] = {}
        self.token_requests: list[dict[str, str]] = []  # what the token endpoint was sent
        self.app = self._build()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Provider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)

    def person(self, key: str, **fields: Any) -> Person:
        """Add (or replace) an account at the provider."""
        self.people[key] = Person(key=key, id=fields.pop("id", str(secrets.randbelow(10**12))),
                                  **fields)
        return self.people[key]

    # --- the endpoints ---------------------------------------------------------------------

    @property
    def authorize_path(self) -> str:
        return "/o/oauth2/v2/auth" if self.face == "google" else "/login/oauth/authorize"

    @property
    def token_path(self) -> str:
        return "/token" if self.face == "google" else "/login/oauth/access_token"

    def _build(self) -> Flask:
        app = Flask(f"provider-{self.face}")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 3600}
        server = AuthorizationServer(app, query_client=self._client,
                                     save_token=self._save_token)
        extensions: list[Any] = [CodeChallenge(required=True)]
        if self.face == "google":
            extensions.append(self._openid())
        server.register_grant(self._grant(), extensions)

        @app.before_request
        def _maybe_down() -> Response | None:
            if self.down:
                return Response("provider down", status=503)
            return self.replies.get(request.path)

        @app.get(self.authorize_path)
        def authorize() -> Any:
            hint = request.args.get("login_hint" if self.face == "google" else "login")
            person = self.people.get(hint) if hint else self.signed_in
            if person is None:
                abort(400, "the test names no account at the provider")
            grant = server.get_consent_grant(end_user=person)
            return server.create_authorization_response(grant_user=person, grant=grant)

        @app.post(self.token_path)
        def token() -> Any:
            self.token_requests.append(request.form.to_dict())
            return server.create_token_response()

        @app.get("/avatar.png")
        def avatar() -> Response:
            image = io.BytesIO()
            Image.new("RGB", (96, 96), (200, 40, 90)).save(image, "PNG")
            return Response(image.getvalue(), content_type="image/png")

        if self.face == "google":
            self._google_routes(app)
        else:
            self._github_routes(app)
        return app

    def _google_routes(self, app: Flask) -> None:
        @app.get("/.well-known/openid-configuration")
        def discovery() -> Response:
            return jsonify(issuer=self.url, authorization_endpoint=self.url + self.authorize_path,
                           token_endpoint=self.url + self.token_path,
                           jwks_uri=f"{self.url}/jwks", response_types_supported=["code"],
                           subject_types_supported=["public"],
                           id_token_signing_alg_values_supported=["RS256"],
                           code_challenge_methods_supported=["S256"])

        @app.get("/jwks")
        def jwks() -> Response:
            return jsonify(KeySet([KEY]).as_dict(private=False))

    def _github_routes(self, app: Flask) -> None:
        @app.get("/api/user")
        def user() -> Response:
            person = self._bearer()
            return jsonify(id=int(person.id), login=person.login, name=person.name,
                           email=person.email, avatar_url=f"{self.url}/avatar.png")

        @app.get("/api/user/emails")
        def emails() -> Response:
            person = self._bearer()
            public = [{"email": person.email, "primary": True,
                       "verified": person.email_verified}] if person.email else []
            return jsonify(person.emails or public)

    # --- authlib's storage hooks -----------------------------------------------------------

    def _client(self, client_id: str) -> Client | None:
        return Client(self.redirect_uris) if client_id == CLIENT_ID else None

    def _save_token(self, token: dict[str, Any], req: Any) -> None:
        self.tokens[token["access_token"]] = req.user

    def _bearer(self) -> Person:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        person = self.tokens.get(value) if scheme.lower() in {"bearer", "token"} else None
        if person is None:
            abort(401)
        return person

    def _grant(self) -> type[grants.AuthorizationCodeGrant]:
        provider = self

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic",
                                                                "client_secret_post"]

            def save_authorization_code(self, code: str, req: Any) -> Code:
                data = req.payload.data
                item = Code(code=code, person=req.user, redirect_uri=req.payload.redirect_uri,
                            scope=req.scope, nonce=data.get("nonce"),
                            code_challenge=data.get("code_challenge"),
                            code_challenge_method=data.get("code_challenge_method"))
                provider.codes[code] = item
                return item

            def query_authorization_code(self, code: str, client: Client) -> Code | None:
                item = provider.codes.get(code)
                return item if item and time.time() - item.issued_at < 300 else None

            def delete_authorization_code(self, item: Code) -> None:
                provider.codes.pop(item.code, None)

            def authenticate_user(self, item: Code) -> Person:
                return item.person

        return CodeGrant

    def _openid(self) -> OpenIDCode:
        provider = self

        class OIDC(OpenIDCode):
            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.signing_key

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                return {"iss": provider.url, "aud": [client.get_client_id()],
                        **provider.id_token_claims}

            def exists_nonce(self, nonce: str, req: Any) -> bool:
                return any(code.nonce == nonce for code in provider.codes.values())

            def generate_user_info(self, user: Person, scope: str) -> UserInfo:
                return UserInfo(sub=user.id, name=user.name, email=user.email,
                                email_verified=user.email_verified,
                                picture=f"{provider.url}/avatar.png")

        return OIDC(require_nonce=True)

    def consent(self, auth_url: str, person: Person) -> tuple[str, str]:
        """Follow `auth_url` as `person` would at the provider (signed in, consenting): the
        code and state the provider sends the browser back with."""
        hint = "login_hint" if self.face == "google" else "login"
        answer = requests.get(f"{auth_url}&{urlencode({hint: person.key})}",
                              allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        back = parse_qs(urlsplit(answer.headers["Location"]).query)
        return back["code"][0], back["state"][0]

    def accept_redirects_to(self, platform_url: str) -> None:
        """Register the platform's callback, as its operator does at the real provider."""
        self.redirect_uris.append(f"{platform_url}/oauth/{self.face}/callback")

    def env(self) -> dict[str, str]:
        """The platform's variables that point it at this provider."""
        name = self.face.upper()
        env = {f"OAUTH_{name}_CLIENT_ID": CLIENT_ID, f"OAUTH_{name}_CLIENT_SECRET": CLIENT_SECRET}
        if self.face == "google":
            env["OAUTH_GOOGLE_METADATA_URL"] = f"{self.url}/.well-known/openid-configuration"
        else:
            env.update(OAUTH_GITHUB_BASE_URL=self.url, OAUTH_GITHUB_API_URL=f"{self.url}/api")
        return env
