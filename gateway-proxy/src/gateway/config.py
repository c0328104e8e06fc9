"""The gateway's configuration: where the services are, who the public is, and the limits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from tessera_shared.config import (
    SERVICES,
    ConfigError,
    Network,
    RedisLocation,
    parse_networks,
    public_url_of,
    service_url_variable,
    service_urls,
)


@dataclass(frozen=True)
class Upstream:
    """One instance of a service."""

    name: str
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass(frozen=True)
class GatewaySettings:
    upstreams: dict[str, tuple[Upstream, ...]]  # each service's instances
    public_url: str
    redis: RedisLocation  # the live streams' channel, and the sessions they hold for
    trusted_proxies: tuple[Network, ...]
    cors_allowed_origins: frozenset[str]
    internal_secret: bytes  # signs the client address the gateway forwards
    connect_timeout: float = 2.0
    read_timeout: float = 30.0
    stream_idle_timeout: float = 60.0

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> GatewaySettings:
        env = dict(os.environ if env is None else env)
        urls = service_urls(env)
        for name in SERVICES:
            if name not in urls:
                raise ConfigError(f"{service_url_variable(name)} is not set: the gateway needs "
                                  f"the {name} service's address. `./tessera up` sets it for "
                                  "you.")
        upstreams = {name: tuple(Upstream(name, parts.hostname or "", parts.port or 0)
                                 for parts in map(urlsplit, urls[name])) for name in SERVICES}
        redis = RedisLocation.from_env(env, hint="The gateway holds the live streams, fed from "
                                       "Redis. `./tessera up` sets it for you.")
        if not env.get("INTERNAL_SECRET"):
            raise ConfigError("INTERNAL_SECRET is not set: the gateway signs the client address "
                              "it forwards with it. `./tessera up` sets it for you.")
        public_url = public_url_of(env)
        origins = {o.strip().rstrip("/") for o in env.get("CORS_ALLOWED_ORIGINS", "").split(",")
                   if o.strip()}
        public = urlsplit(public_url)
        origins.add(f"{public.scheme}://{public.netloc}")
        return cls(
            upstreams=upstreams, public_url=public_url, redis=redis,
            trusted_proxies=parse_networks(env.get("TRUSTED_PROXIES", "")),
            cors_allowed_origins=frozenset(origins),
            internal_secret=env["INTERNAL_SECRET"].encode(),
            connect_timeout=float(env.get("GATEWAY_CONNECT_TIMEOUT", "2")),
            read_timeout=float(env.get("GATEWAY_READ_TIMEOUT", "30")),
            stream_idle_timeout=float(env.get("GATEWAY_STREAM_IDLE_TIMEOUT", "60")),
        )
