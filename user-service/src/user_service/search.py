"""Searching profiles by handle, display name and bio: word prefixes, best matches first.

Each word of the query must begin a word of the profile ("ann lee" finds "Annabel Leeds").
Handles weigh most, then display names, then bios. The database's own full-text index does
the work, so a search never scans the table:

* PostgreSQL: a stored generated column `search_document` holding the weighted `tsvector`
  (`DOCUMENT`), with a GIN index (migration 0002); queries are prefix `tsquery`s ranked by
  `ts_rank_cd`. Storing the vector matters: ranking reads it for every match instead of
  recomputing it (bench/RESULTS.md has the figures).
* SQLite: an FTS5 table `profiles_fts` kept in step by triggers; ranked by `bm25`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from user_service.models import Profile

# What the generated column holds (migration 0002).
DOCUMENT = ("setweight(to_tsvector('simple', handle), 'A') || "
            "setweight(to_tsvector('simple', display_name), 'B') || "
            "setweight(to_tsvector('simple', coalesce(bio, '')), 'C')")
# Like the original's Meilisearch (`maxTotalHits`, 1000 by default): totals count up to here
# and pages reach no further, so a broad query never counts a million rows.
MAX_TOTAL_HITS = 1000
COLUMN = "search_document"
INDEX_NAME = "ix_profiles_search"
MAX_TERMS = 8
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Page:
    profiles: list[Profile]
    total: int


def terms(query: str) -> list[str]:
    """The query's words, lower-cased; punctuation and operators are not search syntax."""
    return [word.lower() for word in _WORD.findall(query)][:MAX_TERMS]


def _capped_count(session: orm.Session, where: sa.ColumnElement[bool] | None) -> int:
    candidates = sa.select(Profile.id)
    if where is not None:
        candidates = candidates.where(where)
    return session.scalar(sa.select(sa.func.count()).select_from(
        candidates.limit(MAX_TOTAL_HITS).subquery())) or 0


def search(session: orm.Session, query: str | None, *, page: int, page_size: int) -> Page:
    offset = (page - 1) * page_size
    limit = max(0, min(page_size, MAX_TOTAL_HITS - offset))
    if query is None:
        found = session.scalars(sa.select(Profile).order_by(Profile.created_at.desc(),
                                                            Profile.id)
                                .limit(limit).offset(offset)).all() if limit else []
        return Page(list(found), _capped_count(session, None))
    words = terms(query)
    if not words:
        return Page([], 0)
    if session.get_bind().dialect.name == "postgresql":
        return _postgresql(session, words, limit, offset)
    return _sqlite(session, words, limit, offset)


def _postgresql(session: orm.Session, words: list[str], limit: int, offset: int) -> Page:
    tsquery = " & ".join(f"{word}:*" for word in words)
    matches = sa.text("search_document @@ to_tsquery('simple', :match)").bindparams(
        match=tsquery)
    rank = sa.text("ts_rank_cd(search_document, to_tsquery('simple', :rank)) DESC").bindparams(
        rank=tsquery)
    found = session.scalars(sa.select(Profile).where(matches).order_by(rank, Profile.id)
                            .limit(limit).offset(offset)).all() if limit else []
    return Page(list(found), _capped_count(session, matches))


def _sqlite(session: orm.Session, words: list[str], limit: int, offset: int) -> Page:
    # Each word quoted (so it is never FTS5 syntax) and made a prefix; words AND together.
    expression = " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)
    matches = sa.text("rowid IN (SELECT rowid FROM profiles_fts WHERE profiles_fts MATCH :m)"
                      ).bindparams(m=expression)
    ranked = sa.text("SELECT rowid, bm25(profiles_fts, 10.0, 5.0, 1.0) AS score "
                     "FROM profiles_fts WHERE profiles_fts MATCH :m").bindparams(m=expression)
    ranking = ranked.columns(sa.column("rowid"), sa.column("score")).subquery()
    found = session.scalars(
        sa.select(Profile).join(ranking, ranking.c.rowid == sa.literal_column("profiles.rowid"))
        .order_by(ranking.c.score, Profile.id).limit(limit).offset(offset)).all() if limit else []
    return Page(list(found), _capped_count(session, matches))
