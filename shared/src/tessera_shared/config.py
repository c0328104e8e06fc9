"""Configuration from the environment: DESIGN.md's contract, read once per process.

The launcher (and docker-compose) pass every variable explicitly; a service never guesses a
production secret. Missing secrets fail fast at start-up with a message that says what to set.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SERVICES = ("user", "auth", "registry", "events")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


def _require(env: Mapping[str, str], name: str, hint: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set. {hint}")
    return value


_FLAGS = {"true": True, "1": True, "yes": True, "on": True,
          "false": False, "0": False, "no": False, "off": False}


def _flag(env: dict[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _FLAGS:
        raise ConfigError(f"{name} must be true or false, not {env[name]!r}.")
    return _FLAGS[raw]


def _count(env: dict[str, str], name: str, *, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {env[name]!r}.")
    return int(raw)


def parse_networks(raw: str) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES`: comma-separated addresses or CIDRs."""
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise ConfigError(f"TRUSTED_PROXIES has an invalid entry {item!r}: {error}") from None
    return tuple(networks)


def service_url_variable(service: str) -> str:
    return f"{service.upper()}_SERVICE_URL"


def _is_service_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        return False
    return parts.scheme == "http" and bool(parts.hostname) and bool(port) and not parts.path


def service_urls(env: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Where each service's instances listen: `<NAME>_SERVICE_URL`, one `http://host:port`
    or several, comma-separated (replicas); a service whose variable is unset is left out."""
    found = {}
    for name in SERVICES:
        variable = service_url_variable(name)
        if not env.get(variable, "").strip():
            continue
        urls = tuple(url.strip().rstrip("/") for url in env[variable].split(",") if url.strip())
        if not urls or not all(map(_is_service_url, urls)):
            raise ConfigError(f"{variable} must be http://host:port, or several of them "
                              f"separated by commas, not {env[variable]!r}.")
        found[name] = urls
    return found


def public_url_of(env: Mapping[str, str]) -> str:
    """Where clients reach the platform: `PUBLIC_URL`, else the gateway on this machine's
    `PORT` (every process and the launcher agree on it this way)."""
    url = (env.get("PUBLIC_URL", "").strip().rstrip("/")
           or f"http://127.0.0.1:{env.get('PORT', '8080')}")
    if urlsplit(url).scheme not in {"http", "https"}:
        raise ConfigError(f"PUBLIC_URL must be an http(s) URL, not {url!r}.")
    return url


@dataclass(frozen=True)
class RedisLocation:
    """Where this platform's Redis is. With Sentinels, `url` (optional) gives only the
    master's password and database, and TLS (`redis://:password@/0`, `rediss://...`)."""

    url: str
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str = ""
    sentinel_password: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, hint: str) -> RedisLocation:
        url = env.get("REDIS_URL", "").strip()
        raw = env.get("REDIS_SENTINELS", "").strip()
        if not raw:
            if not url:
                raise ConfigError(f"REDIS_URL is not set. {hint}")
            return cls(url)
        sentinels = []
        for item in filter(None, (part.strip() for part in raw.split(","))):
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"REDIS_SENTINELS must be host:port, comma-separated, not "
                                  f"{raw!r}.")
            sentinels.append((host.strip("[]"), int(port)))
        master = env.get("REDIS_SENTINEL_MASTER", "").strip()
        if not master:
            raise ConfigError("REDIS_SENTINEL_MASTER is not set: with REDIS_SENTINELS, it names "
                              "the master the Sentinels watch (their `sentinel monitor` name).")
        parts, database = urlsplit(url), urlsplit(url).path.strip("/")
        if url and (parts.scheme not in {"redis", "rediss"} or parts.hostname
                    or not (database.isdigit() or database == "")):
            raise ConfigError("With REDIS_SENTINELS, REDIS_URL gives only the master's password "
                              "and database (redis://:password@/0, or rediss:// for TLS): the "
                              f"Sentinels say where the master is, not {url.split('@')[-1]!r}.")
        return cls(url, tuple(sentinels), master,
                   env.get("REDIS_SENTINEL_PASSWORD", "").strip() or None)


@dataclass(frozen=True)
class OAuthClient:
    """An app registered with an identity provider."""

    client_id: str
    client_secret: str


@dataclass(frozen=True)
class OAuthSettings:
    """Social sign-in: a provider is enabled by its client id (and secret); the endpoints
    default to the real providers and point at a local one in tests."""

    google: OAuthClient | None = None
    github: OAuthClient | None = None
    google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    github_base_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OAuthSettings:
        def client(provider: str) -> OAuthClient | None:
            client_id = env.get(f"OAUTH_{provider}_CLIENT_ID", "").strip()
            if not client_id:
                return None
            return OAuthClient(client_id, _require(
                env, f"OAUTH_{provider}_CLIENT_SECRET",
                f"OAUTH_{provider}_CLIENT_ID is set, and the provider needs the app's secret "
                "too (unset both to disable it)."))

        def url(name: str, default: str) -> str:
            value = env.get(name, "").strip().rstrip("/") or default
            if urlsplit(value).scheme not in {"http", "https"}:
                raise ConfigError(f"{name} must be an http(s) URL, not {value!r}.")
            return value

        return cls(google=client("GOOGLE"), github=client("GITHUB"),
                   google_metadata_url=url("OAUTH_GOOGLE_METADATA_URL", cls.google_metadata_url),
                   github_base_url=url("OAUTH_GITHUB_BASE_URL", cls.github_base_url),
                   github_api_url=url("OAUTH_GITHUB_API_URL", cls.github_api_url))


@dataclass(frozen=True)
class PasskeySettings:
    """Passkeys (WebAuthn): the relying-party id they are bound to and the origins a ceremony
    may come from. Both follow `PUBLIC_URL` unless set. A browser takes no IP address as an
    id, so a platform served at one (the embedded default) binds its passkeys to `localhost`
    on the same port: open the console at http://localhost:PORT to use them."""

    rp_id: str = "localhost"
    origins: tuple[str, ...] = ("http://localhost:8080",)

    @classmethod
    def from_env(cls, env: Mapping[str, str], public_url: str) -> PasskeySettings:
        public = urlsplit(public_url)
        host = public.hostname or "localhost"
        if _is_ip_address(host):
            host = "localhost"
            public = public._replace(netloc=f"localhost:{public.port}" if public.port
                                     else "localhost")
        rp_id = env.get("PASSKEY_RP_ID", "").strip().lower() or host
        if _is_ip_address(rp_id) or not all(rp_id.split(".")) or "/" in rp_id:
            raise ConfigError(f"PASSKEY_RP_ID must be a domain name (the platform's or one it "
                              f"belongs to), not {rp_id!r}.")
        chosen = tuple(origin.strip().rstrip("/") for origin
                       in env.get("PASSKEY_ORIGINS", "").split(",") if origin.strip())
        origins = chosen or (f"{public.scheme}://{public.netloc}",)
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path:
                raise ConfigError(f"PASSKEY_ORIGINS must be origins (scheme://host[:port]) "
                                  f"separated by commas, not {origin!r}.")
            local = parts.hostname == "localhost" or parts.hostname.endswith(".localhost")
            if chosen and parts.scheme == "http" and not local:
                raise ConfigError(f"The origin {origin!r} is plain http: browsers make and use "
                                  "passkeys on https pages only (and on localhost).")
            if not (parts.hostname == rp_id or parts.hostname.endswith(f".{rp_id}")):
                raise ConfigError(f"The origin {origin!r} is not on PASSKEY_RP_ID {rp_id!r} "
                                  "(or a subdomain of it); browsers would refuse it.")
        return cls(rp_id, origins)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Settings:
    """What a service reads from its environment. (The gateway has its own settings.)"""

    service: str
    redis: RedisLocation
    database_url: str | None
    var_dir: Path
    internal_secret: bytes
    secret_key: bytes
    public_url: str
    smtp_url: str | None = None
    media_url: str | None = None  # user-service's images: a folder, or s3://bucket/prefix
    mail_from: str = "Tessera <no-reply@localhost>"
    registration_open: bool = True  # the users API's sign-up switch (its first user always)
    sign_ups_per_address: int = 20  # an hour, in every family together
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    passkeys: PasskeySettings = field(default_factory=PasskeySettings)
    service_urls: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every instance

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry `Secure` unless the platform is served over plain http."""
        return urlsplit(self.public_url).scheme != "http"

    @classmethod
    def from_env(cls, service: str, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        hint = "Start Tessera with `./tessera up`, which provides it, or set it yourself."
        public_url = public_url_of(env)
        return cls(
            service=service,
            redis=RedisLocation.from_env(env, hint=hint),
            database_url=env.get("DATABASE_URL", "").strip() or None,
            var_dir=Path(env.get("TESSERA_VAR_DIR", "var")).resolve(),
            internal_secret=_require(env, "INTERNAL_SECRET", hint).encode(),
            secret_key=_require(env, "SECRET_KEY", hint).encode(),
            public_url=public_url,
            smtp_url=env.get("SMTP_URL", "").strip() or None,
            media_url=env.get("MEDIA_URL", "").strip() or None,
            mail_from=env.get("MAIL_FROM", "").strip()
            or f"Tessera <no-reply@{urlsplit(public_url).hostname}>",
            registration_open=_flag(env, "REGISTRATION_OPEN", default=True),
            sign_ups_per_address=_count(env, "SIGN_UPS_PER_ADDRESS",
                                        default=cls.sign_ups_per_address),
            oauth=OAuthSettings.from_env(env),
            passkeys=PasskeySettings.from_env(env, public_url),
            service_urls=service_urls(env),
        )
