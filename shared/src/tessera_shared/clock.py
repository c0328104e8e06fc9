"""Time as the APIs show it: timezone-aware UTC, written as RFC 3339 with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every one we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return as_utc(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")
