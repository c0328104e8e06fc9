"""Omikrons (relays) and Iotas (home servers) known to the registry, as operators register
them (`./tessera registry ...`) and, for Iotas, as the protocol registers them."""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy import orm

from registry_service import errors
from registry_service.models import Iota, Omikron
from tessera_shared.ids import digest
from tessera_shared.throttle import OMIKRON_ID_PER_IP, Throttle

X448_KEY_BYTES = 56


def x448_public_key(value: str) -> bytes:
    """The raw key of a base64 X448 public key, or a domain error naming what is wrong."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.INVALID_PUBLIC_KEY() from None
    if len(raw) != X448_KEY_BYTES:
        raise errors.INVALID_PUBLIC_KEY(
            f"public_key must be an X448 key ({X448_KEY_BYTES} bytes)")
    return raw


def by_rest_id(session: orm.Session, rest_id: str) -> Omikron | None:
    return session.scalar(sa.select(Omikron).where(Omikron.rest_id_digest == digest(rest_id)))


def authenticate(session: orm.Session | orm.scoped_session, throttle: Throttle,
                 rest_id: str | None, ip: str) -> Omikron:
    """The Omikron whose REST id a call carries (the raw `Authorization` value); guesses at
    ids are throttled per address, and a throttled guess reads as an unknown id."""
    if not rest_id:
        raise errors.OMIKRON_REQUIRED()
    if not throttle.attempt((OMIKRON_ID_PER_IP, ip)):
        raise errors.OMIKRON_UNKNOWN()
    omikron = by_rest_id(session, rest_id)
    if omikron is None:
        raise errors.OMIKRON_UNKNOWN()
    throttle.succeeded((OMIKRON_ID_PER_IP, ip))
    return omikron


def add_omikron(session: orm.Session, number: int, public_key: str,
                location: str | None = None) -> tuple[Omikron, str]:
    """Register a relay; returns it and its REST id, which is shown this once (only its
    digest is kept)."""
    x448_public_key(public_key)
    rest_id = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
    omikron = Omikron(number=number, rest_id_digest=digest(rest_id), public_key=public_key,
                      location=location)
    session.add(omikron)
    return omikron, rest_id


def add_iota(session: orm.Session, number: int, public_key: str) -> Iota:
    x448_public_key(public_key)
    if session.get(Iota, number) is not None:
        raise errors.IOTA_EXISTS()
    iota = Iota(number=number, public_key=public_key)
    session.add(iota)
    return iota


def remove(session: orm.Session, kind: type[Iota] | type[Omikron], number: int) -> bool:
    found = session.get(kind, number)
    if found is not None:
        session.delete(found)
    return found is not None
