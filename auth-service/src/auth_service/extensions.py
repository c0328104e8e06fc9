"""The auth app's long-lived helpers, as every family's views reach them (set up in
`create_app`)."""

from __future__ import annotations

from flask import current_app

from auth_service.email_flows import Mailroom
from auth_service.two_factor import TwoFactor


def mailroom() -> Mailroom:
    return current_app.extensions["auth.mailroom"]


def two_factor() -> TwoFactor:
    return current_app.extensions["auth.two_factor"]
