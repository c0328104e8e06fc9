"""The identity providers people sign in with: Google through OpenID Connect, GitHub through
OAuth 2.0, both as authlib's clients (the authorization URL with a PKCE S256 challenge, the
code exchange, the ID token's verification, the provider's API).

A provider answers with an `Identity` whose email the provider has verified, or with one of
the `oauth:*` refusals: a provider that cannot be reached, answers with an HTTP error or with
something that is not JSON is `oauth:provider_unavailable` (502); JSON that does not say who
signed in, or an ID token that does not verify, is `oauth:user_info_fetch_failed` (400). Every
field taken from a provider is checked for its type and shape first, so no answer of theirs
becomes a 500 of ours.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask
from joserfc.errors import JoseError

from auth_service import errors
from auth_service.models import EMAIL_MAX_LENGTH
from auth_service.social import Attempt, Identity
from tessera_shared import limits
from tessera_shared.config import OAuthClient, Settings
from tessera_shared.validation import is_email

log = logging.getLogger(__name__)

TIMEOUT = 10  # seconds each read from a provider may take
AVATAR_SECONDS = 5  # for the whole picture
DISPLAY_NAME_MAX = 20  # v0's rule for display names
NO_NAME = "New user"


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

    def avatar(self, url: str | None) -> bytes | None:
        """The provider's picture of the person, if it can be had within a few seconds and
        the profile image's size; None otherwise (an avatar is a nicety: a sign-up never
        fails for want of one)."""
        return fetch_avatar(url)

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
            if not _text(token.get("access_token")):
                raise errors.TOKEN_EXCHANGE_FAILED(
                    f"{self.title} answered the code without an access token; start again.")
            return self._identity(token, attempt)

    @abstractmethod
    def _identity(self, token: dict[str, Any], attempt: Attempt) -> Identity: ...

    def _unverified(self) -> Exception:
        return errors.PROVIDER_EMAIL_NOT_VERIFIED(
            f"{self.title} has no verified email address for this account; verify one at "
            f"{self.title}, then try again.")

    def _unusable(self, what: str) -> Exception:
        return errors.USER_INFO_FETCH_FAILED(f"{self.title}'s answer {what}; start again.")

    def _checked(self, subject: str | None, email: str | None, name: str | None,
                 avatar_url: str | None) -> Identity:
        """The identity, once each part of it has the shape the platform stores."""
        if subject is None or len(subject) > 255:
            raise self._unusable("named no account")
        if email is None:
            raise self._unverified()
        if not is_email(email, max_length=EMAIL_MAX_LENGTH):
            raise self._unusable("carried an email address that cannot be used")
        return Identity(provider=self.name, subject=subject, email=email,
                        display_name=_display_name(name),
                        avatar_url=avatar_url if avatar_url and len(avatar_url) <= 2048
                        else None)

    @contextmanager
    def _calling(self) -> Iterator[None]:
        """A provider that is down, slow or not speaking JSON is its failure, not ours."""
        try:
            yield
        except (requests.RequestException, ValueError, RuntimeError):
            # ValueError: a body that is not JSON (authlib's and requests' word for it);
            # RuntimeError: authlib's word for a discovery document that lacks an endpoint.
            log.warning("identity provider failed", extra={"provider": self.name},
                        exc_info=True)
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
        if not _text(token.get("id_token")):
            raise self._unusable("carried no ID token")
        try:
            claims = self.client.parse_id_token(token, nonce=attempt.nonce)
        except requests.RequestException:
            raise  # the JWKS could not be had: the provider's trouble (see `_calling`)
        except (JoseError, KeyError, TypeError, ValueError) as error:
            # KeyError, TypeError, ValueError: a JWKS or token joserfc cannot even read.
            log.info("Google ID token refused", extra={"error": repr(error)})
            raise self._unusable("carried an ID token that does not verify") from None
        verified = claims.get("email_verified") is True
        return self._checked(_text(claims.get("sub")),
                             _text(claims.get("email")) if verified else None,
                             _text(claims.get("name")) or _text(claims.get("given_name")),
                             _text(claims.get("picture")))


class GitHub(Provider):
    """OAuth 2.0 and the REST API: `/user` for the account, `/user/emails` for its verified
    addresses (a profile's public address is taken only if it is one of them, else the
    verified primary one)."""

    name, title = "github", "GitHub"
    scope = "read:user user:email"

    def _identity(self, token: dict[str, Any], attempt: Attempt) -> Identity:
        user = self._get("user", token)
        if not isinstance(user, dict):
            raise self._unusable("named no account")
        account_id = user.get("id")
        subject = str(account_id) if type(account_id) is int else None
        listed = self._get("user/emails", token)
        verified = [entry for entry in (listed if isinstance(listed, list) else [])
                    if isinstance(entry, dict) and entry.get("verified") is True
                    and _text(entry.get("email"))]
        public = _text(user.get("email"))
        email = next((entry["email"] for entry in verified if entry["email"] == public),
                     next((entry["email"] for entry in verified
                           if entry.get("primary") is True), None))
        return self._checked(subject, email, _text(user.get("name")) or _text(user.get("login")),
                             _text(user.get("avatar_url")))

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
    """A picture by its URL, within `AVATAR_SECONDS` and the profile image's size."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    deadline = time.monotonic() + AVATAR_SECONDS
    data = bytearray()
    try:
        with requests.get(url, timeout=AVATAR_SECONDS, stream=True) as answer:
            if not answer.ok:
                return None
            for chunk in answer.iter_content(64 << 10):
                data += chunk
                if len(data) > limits.PROFILE_IMAGE or time.monotonic() > deadline:
                    return None
    except requests.RequestException:
        return None
    return bytes(data) or None


def _text(value: object) -> str | None:
    """A provider's field, if it is a string with something in it."""
    return value if isinstance(value, str) and value.strip() else None


def _display_name(name: str | None) -> str:
    """The provider's name for the person as a v0 display name: printable, at most 20
    characters ("New user" if it has none)."""
    printable = "".join(ch for ch in name or "" if ch.isprintable()).strip()
    return printable[:DISPLAY_NAME_MAX].strip() or NO_NAME
