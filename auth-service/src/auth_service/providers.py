"""The identity providers people sign in with: Google through OpenID Connect, GitHub through
OAuth 2.0, both as authlib's clients (the authorization URL with a PKCE S256 challenge, the
code exchange, the ID token's verification, the provider's API).

A provider answers with an `Identity` whose email the provider has verified, or with one of
the `oauth:*` refusals; a provider that cannot be reached (or answers 5xx) is
`oauth:provider_unavailable`, never a 500 of ours.
"""

from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask
from joserfc.errors import JoseError

from auth_service import errors
from tessera_shared.config import OAuthClient, Settings

log = logging.getLogger(__name__)

TIMEOUT = 10  # seconds for each call on a provider
AVATAR_TIMEOUT = 5
AVATAR_MAX_BYTES = 10 << 20  # the image pipeline's own limit


class Label(enum.Enum):
    """The providers as the wire names them: the original's enum names, by provider name."""

    Google = "google"
    Github = "github"


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: its id for them and their verified email."""

    provider: str  # "google" or "github"
    subject: str
    email: str
    display_name: str
    avatar_url: str | None


@dataclass(frozen=True)
class Attempt:
    """What the sign-in keeps while the browser is at the provider (inside the state)."""

    code_verifier: str
    nonce: str | None


class Provider(ABC):
    """One provider: `name` in paths (`google`), `title` in sentences (`GitHub`)."""

    name: ClassVar[str]
    title: ClassVar[str]
    scope: ClassVar[str]

    def __init__(self, client: Any, redirect_uri: str) -> None:
        self.client = client  # authlib's FlaskOAuth2App
        self.redirect_uri = redirect_uri

    def new_attempt(self) -> Attempt:
        return Attempt(code_verifier=generate_token(48), nonce=None)

    def authorization_url(self, state: str, attempt: Attempt) -> str:
        """Where to send the browser: the provider's consent page, with `state` and the
        attempt's PKCE challenge (and nonce)."""
        extra = {"nonce": attempt.nonce} if attempt.nonce else {}
        with self._calling():
            return self.client.create_authorization_url(
                self.redirect_uri, state=state, code_verifier=attempt.code_verifier,
                **extra)["url"]

    def identity(self, code: str, attempt: Attempt) -> Identity:
        """Exchange the code the provider sent back (with the PKCE verifier) and read who
        signed in."""
        with self._calling():
            try:
                token = self.client.fetch_access_token(
                    self.redirect_uri, code=code, code_verifier=attempt.code_verifier)
            except OAuthError as error:
                raise errors.TOKEN_EXCHANGE_FAILED(
                    f"{self.title} refused the authorization code ({error.error}); start "
                    "again.") from None
            return self._identity(token, attempt)

    @abstractmethod
    def _identity(self, token: dict[str, Any], attempt: Attempt) -> Identity: ...

    def _unverified(self) -> Exception:
        return errors.PROVIDER_EMAIL_NOT_VERIFIED(
            f"{self.title} has no verified email address for this account; verify one at "
            f"{self.title}, then try again.")

    @contextmanager
    def _calling(self) -> Iterator[None]:
        """A provider that is down, slow or answering garbage is its failure, not ours."""
        try:
            yield
        except (requests.RequestException, ValueError, RuntimeError) as error:
            # RuntimeError: authlib's word for a discovery document that lacks an endpoint.
            log.warning("identity provider failed", extra={
                "provider": self.name, "error": type(error).__name__})
            raise errors.PROVIDER_UNAVAILABLE(
                f"{self.title} could not be reached or answered with an error; try again "
                "in a moment.") from None


class Google(Provider):
    """OpenID Connect: endpoints from the discovery document, the person from the ID token
    (signature by the JWKS, issuer, audience, nonce and expiry checked by authlib)."""

    name, title = "google", "Google"
    scope = "openid email profile"

    def new_attempt(self) -> Attempt:
        return Attempt(code_verifier=generate_token(48), nonce=generate_token(32))

    def _identity(self, token: dict[str, Any], attempt: Attempt) -> Identity:
        try:
            claims = self.client.parse_id_token(token, nonce=attempt.nonce)
        except JoseError as error:
            raise errors.USER_INFO_FETCH_FAILED(
                f"Google's ID token did not verify ({error.error}); start again.") from None
        if not claims or not claims.get("sub"):
            raise errors.USER_INFO_FETCH_FAILED("Google's answer carried no ID token.")
        if not claims.get("email") or claims.get("email_verified") is not True:
            raise self._unverified()
        return Identity(provider=self.name, subject=str(claims["sub"]), email=claims["email"],
                        display_name=claims.get("name") or claims.get("given_name")
                        or claims["email"].split("@")[0],
                        avatar_url=claims.get("picture"))


class GitHub(Provider):
    """OAuth 2.0 and the REST API: `/user`, and `/user/emails` for the verified primary
    address when the profile shows none."""

    name, title = "github", "GitHub"
    scope = "read:user user:email"

    def _identity(self, token: dict[str, Any], attempt: Attempt) -> Identity:
        user = self._get("user", token)
        if not isinstance(user, dict) or "id" not in user or not user.get("login"):
            raise errors.USER_INFO_FETCH_FAILED("GitHub's answer named no account.")
        email = user.get("email")
        if not email:
            listed = self._get("user/emails", token)
            email = next((entry.get("email") for entry in listed if isinstance(entry, dict)
                          and entry.get("primary") and entry.get("verified")), None) \
                if isinstance(listed, list) else None
        if not email:
            raise self._unverified()
        return Identity(provider=self.name, subject=str(user["id"]), email=email,
                        display_name=user.get("name") or user["login"],
                        avatar_url=user.get("avatar_url"))

    def _get(self, path: str, token: dict[str, Any]) -> Any:
        answer = self.client.get(path, token=token)
        if answer.status_code >= 500:
            answer.raise_for_status()
        if not answer.ok:
            raise errors.USER_INFO_FETCH_FAILED(
                f"GitHub refused to show the account (HTTP {answer.status_code}); start "
                "again.")
        return answer.json()


def configured(app: Flask, settings: Settings) -> dict[str, Provider]:
    """The providers this platform has client ids for, by name."""
    oauth = OAuth(app)
    client_kwargs = {"code_challenge_method": "S256", "default_timeout": TIMEOUT}
    found: dict[str, Provider] = {}

    def register(kind: type[Provider], client: OAuthClient, **endpoints: str) -> None:
        registered = oauth.register(
            kind.name, client_id=client.client_id, client_secret=client.client_secret,
            client_kwargs={**client_kwargs, "scope": kind.scope}, **endpoints)
        found[kind.name] = kind(registered, f"{settings.public_url}/oauth/{kind.name}/callback")

    if settings.oauth.google:
        register(Google, settings.oauth.google,
                 server_metadata_url=settings.oauth.google_metadata_url)
    if settings.oauth.github:
        web, api = settings.oauth.github_base_url, settings.oauth.github_api_url
        register(GitHub, settings.oauth.github,
                 authorize_url=f"{web}/login/oauth/authorize",
                 access_token_url=f"{web}/login/oauth/access_token",
                 api_base_url=f"{api}/")
    return found


def fetch_avatar(url: str | None) -> bytes | None:
    """The provider's picture of the person, if it can be had quickly; None otherwise (an
    avatar is a nicety: a sign-up never fails for want of one)."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    data = bytearray()
    try:
        with requests.get(url, timeout=AVATAR_TIMEOUT, stream=True) as answer:
            if not answer.ok:
                return None
            for chunk in answer.iter_content(64 << 10):
                data += chunk
                if len(data) > AVATAR_MAX_BYTES:
                    return None
    except requests.RequestException:
        return None
    return bytes(data) or None
