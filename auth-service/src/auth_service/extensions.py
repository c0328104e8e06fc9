"""The auth app's use cases, as every family's views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from auth_service.accounts import Accounts
from auth_service.authentication import Authenticator
from auth_service.email_flows import EmailFlows
from auth_service.two_factor import TwoFactor

KEY = "auth"


@dataclass(frozen=True)
class UseCases:
    accounts: Accounts
    authenticator: Authenticator
    email_flows: EmailFlows
    two_factor: TwoFactor

    def init_app(self, app: Flask) -> None:
        app.extensions[KEY] = self


def _bound() -> UseCases:
    return current_app.extensions[KEY]


def accounts() -> Accounts:
    return _bound().accounts


def authenticator() -> Authenticator:
    return _bound().authenticator


def email_flows() -> EmailFlows:
    return _bound().email_flows


def two_factor() -> TwoFactor:
    return _bound().two_factor
