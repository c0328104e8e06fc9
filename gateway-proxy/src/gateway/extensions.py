"""The gateway app's long-lived helpers, as its own views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from tessera_shared.extensions import Extension

if TYPE_CHECKING:  # the views that reach them import this module
    from gateway.balance import Upstreams
    from gateway.docs import SpecCache


@dataclass(frozen=True)
class Helpers(Extension):
    key: ClassVar[str] = "gateway"
    spec: SpecCache
    upstreams: Upstreams


def spec_cache() -> SpecCache:
    return Helpers.current().spec


def upstreams() -> Upstreams:
    return Helpers.current().upstreams
