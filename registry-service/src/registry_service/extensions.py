"""The registry app's long-lived helpers, as both families reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from registry_service.pending import Registrations
from tessera_shared.clients.profiles import Profiles

KEY = "registry"


@dataclass(frozen=True)
class Helpers:
    registrations: Registrations
    profiles: Profiles

    def init_app(self, app: Flask) -> None:
        app.extensions[KEY] = self


def registrations() -> Registrations:
    return current_app.extensions[KEY].registrations


def profiles() -> Profiles:
    return current_app.extensions[KEY].profiles
