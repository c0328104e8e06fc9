"""Profiles: the domain rules, as plain functions over a database session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.clients.profiles import NewProfile
from tessera_shared.outbox import emit
from tessera_shared.validation import is_handle
from user_service import errors
from user_service.models import HANDLE_KEY_MAX, Profile, handle_key


def named(session: orm.Session, handle: str) -> Profile | None:
    """The profile holding `handle` (without regard to case), if any."""
    return session.scalar(sa.select(Profile).where(Profile.handle_key == handle_key(handle)))


def by_handle(session: orm.Session, handle: str) -> Profile:
    profile = named(session, handle)
    if profile is None:
        raise errors.PROFILE_NOT_FOUND()
    return profile


def by_id(session: orm.Session, user_id: str) -> Profile:
    profile = session.get(Profile, user_id)
    if profile is None:
        raise errors.PROFILE_NOT_FOUND()
    return profile


def any_exists(session: orm.Session) -> bool:
    return session.scalar(sa.select(Profile.id).limit(1)) is not None


# Built once: every sign-up form asks this while a handle is typed.
_HANDLE_TAKEN = sa.select(sa.exists().where(Profile.handle_key == sa.bindparam("key")))


def handle_available(session: orm.Session, handle: str) -> bool:
    """Free to take: no one holds it, and it keeps to the alphabet every sign-up asks."""
    return is_handle(handle) and session.scalar(_HANDLE_TAKEN,
                                                {"key": handle_key(handle)}) is False


def check_handle(handle: str) -> None:
    """Every family's rule for a handle, whichever family's client chose it."""
    if len(handle) > HANDLE_KEY_MAX or not is_handle(handle):
        raise errors.INVALID_HANDLE()


def create(session: orm.Session, new: NewProfile) -> Profile:
    """Create a profile (the remote step of every sign-up saga). Creating the same profile
    twice is harmless, so a caller may retry; a handle someone else holds is refused."""
    check_handle(new.handle)
    existing = session.get(Profile, new.id)
    if existing is not None:
        if existing.handle_key != handle_key(new.handle):
            raise errors.PROFILE_EXISTS()
        return existing
    profile = Profile(**asdict(new), handle_key=handle_key(new.handle))
    session.add(profile)
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise errors.HANDLE_TAKEN() from None
    return profile


EDITABLE = ("handle", "display_name", "bio", "status", "profile_image")


def edit(session: orm.Session, user_id: str, changes: Mapping[str, str | None]) -> Profile:
    """Set the given fields (`EDITABLE`); a new handle must be free. One event names what
    actually changed."""
    profile = by_id(session, user_id)
    changed = sorted(name for name, value in changes.items() if getattr(profile, name) != value)
    if "profile_image" in changed:
        _let_go(session, profile.profile_image)
    for name in changed:
        setattr(profile, name, changes[name])
    if "handle" in changed:
        check_handle(profile.handle)
        profile.handle_key = handle_key(profile.handle)
        try:
            session.flush()
        except sa.exc.IntegrityError:
            raise errors.HANDLE_TAKEN() from None
    if changed:
        emit(session, "user.profile_updated", {"user_id": user_id, "changed": changed})
    return profile


def update(session: orm.Session, user_id: str, *, display_name: str | None,
           bio: str | None) -> Profile:
    """Change what was given; a value left out (or null) stays as it is."""
    given = {"display_name": display_name, "bio": bio}
    return edit(session, user_id, {name: value for name, value in given.items()
                                   if value is not None})


def set_image(session: orm.Session, user_id: str, column: str, key: str | None) -> Profile:
    """Point the profile's image slot (`profile_image`, `banner_image`) at a stored image, or
    clear it; clearing an empty slot is a 404, as in the original API."""
    profile = by_id(session, user_id)
    if key is None and getattr(profile, column) is None:
        raise errors.NO_IMAGE(f"No {column.replace('_', ' ')} to delete.")
    if getattr(profile, column) != key:
        _let_go(session, getattr(profile, column))
    setattr(profile, column, key)
    emit(session, "user.profile_updated", {"user_id": user_id, "changed": [column]})
    return profile


def mark_verified(session: orm.Session, user_id: str) -> None:
    """Auth proved the account's address (a verification, or a confirmed move to it)."""
    profile = session.get(Profile, user_id)
    if profile is not None:
        profile.is_verified = True


def delete(session: orm.Session, user_id: str) -> bool:
    """Remove a profile (saga compensation, account deletion); True if there was one."""
    profile = session.get(Profile, user_id)
    if profile is None:
        return False
    _let_go(session, profile.profile_image, profile.banner_image)
    session.delete(profile)
    return True


_LET_GO = "user.images_let_go"


def _let_go(session: orm.Session, *keys: str | None) -> None:
    session.info.setdefault(_LET_GO, set()).update(key for key in keys if key)


def images_let_go(session: orm.Session) -> set[str]:
    """The images this unit of work took off profiles that no profile shows any more (a
    file stored before keys named their owner may be shown by several)."""
    keys = session.info.pop(_LET_GO, set())
    if not keys:
        return set()
    session.flush()
    held = session.scalars(sa.select(Profile.profile_image).where(
        Profile.profile_image.in_(keys)).union(sa.select(Profile.banner_image).where(
            Profile.banner_image.in_(keys))))
    return keys - set(held)
