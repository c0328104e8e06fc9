"""The user app's long-lived helpers, as its views reach them (bound once in `create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tessera_shared.clients.accounts import Accounts
from tessera_shared.extensions import Extension
from user_service.storage import MediaStore


@dataclass(frozen=True)
class Helpers(Extension):
    key: ClassVar[str] = "user"
    accounts: Accounts
    media: MediaStore


def accounts() -> Accounts:
    return Helpers.current().accounts


def media_store() -> MediaStore:
    return Helpers.current().media
