"""Searching profiles by handle, display name and bio: word prefixes, best matches first.

Each word of the query must begin a word of the profile ("ann lee" finds "Annabel Leeds").
Handles weigh most, then display names, then bios. The database's own full-text index does
the work, so a search never scans the table:

* PostgreSQL: a stored generated column `search_document` holding the weighted `tsvector`
  (`DOCUMENT`), with a GIN index (migration 0002); queries are prefix `tsquery`s ranked by
  `ts_rank_cd`. Storing the vector matters: ranking reads it for every match instead of
  recomputing it (bench/RESULTS.md has the figures).
* SQLite: an FTS5 table `profiles_fts` kept in step by triggers; ranked by `bm25`.

On both, a query matching more than `CANDIDATES` profiles ranks a capped set of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from user_service.models import Profile, handle_key

# What the generated column holds (migration 0002).
DOCUMENT = ("setweight(to_tsvector('simple', handle), 'A') || "
            "setweight(to_tsvector('simple', display_name), 'B') || "
            "setweight(to_tsvector('simple', coalesce(bio, '')), 'C')")
# Like the original's Meilisearch (`maxTotalHits`, 1000 by default): totals count up to here
# and pages reach no further, so a broad query never counts a million rows.
MAX_TOTAL_HITS = 1000
# Ranking reads each match's document from the table, and a broad prefix ("ann" at a million
# users) matches tens of thousands. So only the first CANDIDATES matches the index yields are
# ranked, plus the profile whose handle is the query's first word, which no cap may hide.
# A query with fewer matches, the kind people type to find someone, is ranked in full.
CANDIDATES = 2 * MAX_TOTAL_HITS
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
    ranked = sa.text("""
        WITH candidates AS MATERIALIZED (
            (SELECT id, search_document FROM profiles
             WHERE search_document @@ to_tsquery('simple', :match) LIMIT :candidates)
            UNION
            SELECT id, search_document FROM profiles
            WHERE handle_key = :handle AND search_document @@ to_tsquery('simple', :match))
        SELECT id AS key, ts_rank_cd(search_document, to_tsquery('simple', :match)) AS score,
               count(*) OVER () AS matched
        FROM candidates ORDER BY score DESC, id LIMIT :limit OFFSET :offset""")
    matches = sa.text("search_document @@ to_tsquery('simple', :match)").bindparams(
        match=tsquery)
    return _ranked_page(session, ranked.bindparams(match=tsquery, handle=handle_key(words[0])),
                        matches, limit, offset)


def _sqlite(session: orm.Session, words: list[str], limit: int, offset: int) -> Page:
    # Each word quoted (so it is never FTS5 syntax) and made a prefix; words AND together.
    expression = " ".join('"{}"*'.format(word.replace('"', '""')) for word in words)
    # The LIMIT sits inside FTS5's own query: bm25 is computed for those rows only (a MATCH
    # combined with `rowid IN (...)` would run the MATCH once per row).
    ranked = sa.text("""
        SELECT profiles.id AS key, score, count(*) OVER () AS matched
        FROM (SELECT rowid, max(score) AS score FROM (
                  SELECT * FROM (SELECT rowid, -bm25(profiles_fts, 10.0, 5.0, 1.0) AS score
                                 FROM profiles_fts
                                 WHERE profiles_fts MATCH :match LIMIT :candidates)
                  UNION ALL
                  SELECT rowid, -bm25(profiles_fts, 10.0, 5.0, 1.0) FROM profiles_fts
                  WHERE profiles_fts MATCH :match
                  AND rowid = (SELECT rowid FROM profiles WHERE handle_key = :handle))
              GROUP BY rowid) AS ranked
        JOIN profiles ON profiles.rowid = ranked.rowid
        ORDER BY score DESC, key LIMIT :limit OFFSET :offset""")
    matches = sa.text("rowid IN (SELECT rowid FROM profiles_fts WHERE profiles_fts MATCH :m)"
                      ).bindparams(m=expression)
    return _ranked_page(session, ranked.bindparams(match=expression, handle=handle_key(words[0])),
                        matches, limit, offset)


def _ranked_page(session: orm.Session, ranked: sa.TextClause, matches: sa.ColumnElement[bool],
                 limit: int, offset: int) -> Page:
    """One page of `ranked` (key: a profile id, score, matched: how many candidates there
    were) with the profiles it names; the total comes with the page."""
    if not limit:
        return Page([], _capped_count(session, matches))
    page = ranked.bindparams(candidates=CANDIDATES, limit=limit, offset=offset).columns(
        sa.column("key"), sa.column("score"), sa.column("matched")).subquery()
    rows = session.execute(sa.select(Profile, page.c.matched).join(page, page.c.key == Profile.id)
                           .order_by(page.c.score.desc(), Profile.id)).all()
    if not rows:  # nothing matches at all, or the page lies beyond the matches
        return Page([], _capped_count(session, matches) if offset else 0)
    return Page([profile for profile, _ in rows], min(rows[0].matched, MAX_TOTAL_HITS))
