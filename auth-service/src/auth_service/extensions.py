"""The auth app's use cases, as every family's views reach them (bound once in
`create_app`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from auth_service.accounts import Accounts
from auth_service.authentication import Authenticator
from auth_service.email_flows import EmailFlows
from auth_service.passkeys import Passkeys
from auth_service.social import SocialSignIn
from auth_service.two_factor import TwoFactor
from tessera_shared.extensions import Extension


@dataclass(frozen=True)
class UseCases(Extension):
    key: ClassVar[str] = "auth"
    accounts: Accounts
    authenticator: Authenticator
    email_flows: EmailFlows
    passkeys: Passkeys
    social: SocialSignIn
    two_factor: TwoFactor


def accounts() -> Accounts:
    return UseCases.current().accounts


def authenticator() -> Authenticator:
    return UseCases.current().authenticator


def email_flows() -> EmailFlows:
    return UseCases.current().email_flows


def passkeys() -> Passkeys:
    return UseCases.current().passkeys


def social() -> SocialSignIn:
    return UseCases.current().social


def two_factor() -> TwoFactor:
    return UseCases.current().two_factor
