"""The user app's long-lived helpers, as its views reach them (bound once in `create_app`)."""

from __future__ import annotations

from flask import Flask, current_app

from tessera_shared.clients.accounts import Accounts

KEY = "user"


def init_accounts(app: Flask, client: Accounts) -> None:
    app.extensions[KEY] = client


def accounts() -> Accounts:
    return current_app.extensions[KEY]
