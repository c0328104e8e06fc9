"""Who follows whom: following is idempotent (following twice is following), nobody follows
themselves, and the edges go with either profile (the database cascades)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects import postgresql, sqlite

from tessera_shared.outbox import emit
from user_service import errors, profiles
from user_service.models import Follow, Profile


@dataclass(frozen=True)
class Counts:
    followers: int
    following: int


@dataclass(frozen=True)
class Page:
    profiles: list[Profile]
    total: int


def follow(session: orm.Session, follower_id: str, followee_id: str) -> None:
    """`follower_id` follows `followee_id` (already did: nothing changes)."""
    if follower_id == followee_id:
        raise errors.CANNOT_FOLLOW_SELF()
    profiles.by_id(session, followee_id)
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    # Two follows at once: the row decides, and the second changes nothing.
    try:
        added = session.execute(insert(Follow).values(
            follower_id=follower_id, followee_id=followee_id).on_conflict_do_nothing())
    except sa.exc.IntegrityError:  # the profile went away meanwhile
        raise errors.PROFILE_NOT_FOUND() from None
    if added.rowcount:
        emit(session, "user.followed", {"user_id": follower_id, "followee_id": followee_id})


def unfollow(session: orm.Session, follower_id: str, followee_id: str) -> None:
    """`follower_id` no longer follows `followee_id` (did not: nothing changes)."""
    removed = session.execute(sa.delete(Follow).where(
        Follow.follower_id == follower_id, Follow.followee_id == followee_id))
    if removed.rowcount:
        emit(session, "user.unfollowed", {"user_id": follower_id, "followee_id": followee_id})


def follows(session: orm.Session, follower_id: str, followee_id: str) -> bool:
    return session.get(Follow, (follower_id, followee_id)) is not None


def counts(session: orm.Session, user_id: str) -> Counts:
    """Both counts in one query (every profile shown asks for them)."""
    def count(column: orm.InstrumentedAttribute[str]) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).select_from(Follow).where(
            column == user_id).scalar_subquery()

    followers, following = session.execute(sa.select(
        count(Follow.followee_id), count(Follow.follower_id))).one()
    return Counts(followers=followers, following=following)


class Side(enum.Enum):
    FOLLOWERS = "followers"  # who follows the user
    FOLLOWING = "following"  # whom the user follows


def listed(session: orm.Session, user_id: str, side: Side, *, page: int,
           page_size: int) -> Page:
    """One side of the user's follows, most recent first."""
    profiles.by_id(session, user_id)
    mine, theirs = ((Follow.followee_id, Follow.follower_id) if side is Side.FOLLOWERS
                    else (Follow.follower_id, Follow.followee_id))
    total = session.scalar(sa.select(sa.func.count()).select_from(Follow).where(
        mine == user_id)) or 0
    found = session.scalars(
        sa.select(Profile).join(Follow, theirs == Profile.id).where(mine == user_id)
        .order_by(Follow.created_at.desc(), Profile.id)
        .offset((page - 1) * page_size).limit(page_size))
    return Page(list(found), total)
