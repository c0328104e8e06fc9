"""The registry app's long-lived helpers, as both families reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from registry_service.pending import Registrations
from tessera_shared.clients.profiles import Profiles
from tessera_shared.extensions import Extension


@dataclass(frozen=True)
class Helpers(Extension):
    key: ClassVar[str] = "registry"
    registrations: Registrations
    profiles: Profiles


def registrations() -> Registrations:
    return Helpers.current().registrations


def profiles() -> Profiles:
    return Helpers.current().profiles
