"""Search on the database under test (SQLite's FTS5, or PostgreSQL's GIN index)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.clients.profiles import NewProfile
from tessera_shared.config import Settings
from tessera_shared.db import database_url
from tessera_shared.migrations import upgrade
from user_service import profiles, search

PEOPLE = [
    ("annabel", "Annabel Leeds", "Painter of quiet harbours"),
    ("lee_ann", "Lee Ann", None),
    ("bob", "Bob Annex", "likes annotated maps"),
    ("zoe", "Zoë Ångström", "física y química"),
    ("carol", "Carol", "nothing in common"),
]


@pytest.fixture
def session(service_env):
    settings = Settings.from_env("user", service_env)
    upgrade(settings)
    engine = sa.create_engine(database_url(settings))
    with orm.Session(engine) as session:
        for handle, name, bio in PEOPLE:
            profiles.create(session, NewProfile(str(uuid.uuid4()), handle, name, bio=bio))
        session.commit()
        yield session
    engine.dispose()


def handles(page):
    return [profile.handle for profile in page.profiles]


def test_words_match_the_beginnings_of_words_and_handles_rank_first(session):
    found = search.search(session, "ann", page=1, page_size=20)
    assert found.total == 3
    assert set(handles(found)) == {"annabel", "lee_ann", "bob"}
    assert handles(found)[-1] == "bob"  # only his name and bio match: he ranks last


def test_every_word_must_match(session):
    found = search.search(session, "lee ann", page=1, page_size=20)
    assert set(handles(found)) == {"lee_ann", "annabel"}  # "Leeds" begins with "lee"
    assert search.search(session, "ann carol", page=1, page_size=20).total == 0


def test_changes_to_a_profile_are_searchable_at_once(session):
    profile = profiles.by_handle(session, "carol")
    profile.bio = "collects seashells"
    session.commit()
    assert handles(search.search(session, "seash", page=1, page_size=20)) == ["carol"]
    profiles.delete(session, profile.id)
    session.commit()
    assert search.search(session, "seash", page=1, page_size=20).total == 0


def test_unicode_words_are_found(session):
    assert handles(search.search(session, "ångs", page=1, page_size=20)) == ["zoe"]


@pytest.mark.parametrize("query", ['"', "ann*", "OR", "a AND b", "NEAR(x y)", "!!!", "'--"])
def test_search_syntax_in_a_query_is_just_text(session, query):
    search.search(session, query, page=1, page_size=20)  # never a syntax error


def test_pages_split_the_results_and_no_query_lists_everyone(session):
    everyone = search.search(session, None, page=1, page_size=2)
    assert everyone.total == len(PEOPLE)
    second = search.search(session, None, page=2, page_size=2)
    assert not set(handles(everyone)) & set(handles(second))


def test_on_postgresql_a_search_is_answered_from_the_index(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the GIN index exists on PostgreSQL; SQLite searches its FTS5 table")
    session.execute(sa.text("SET enable_seqscan = off"))  # a 5-row table would be scanned
    plan = "\n".join(session.scalars(sa.text(
        "EXPLAIN SELECT id FROM profiles WHERE search_document @@ to_tsquery('simple', 'ann:*')"
    )))
    assert search.INDEX_NAME in plan
    assert "Seq Scan" not in plan


def test_totals_and_pages_stop_at_the_originals_1000_hits(session, monkeypatch):
    monkeypatch.setattr(search, "MAX_TOTAL_HITS", 3)
    first = search.search(session, None, page=1, page_size=2)
    assert first.total == 3
    assert len(search.search(session, None, page=2, page_size=2).profiles) == 1
    assert search.search(session, None, page=3, page_size=2).profiles == []
    assert search.search(session, "ann", page=1, page_size=20).total == 3


def test_a_broad_query_ranks_a_capped_set_of_candidates(session, monkeypatch):
    monkeypatch.setattr(search, "CANDIDATES", 2)
    found = search.search(session, "ann", page=1, page_size=20)
    assert found.total == 2  # three match; two were ranked
    assert len(found.profiles) == 2
    assert search.search(session, "ann", page=2, page_size=1).profiles  # pages within them


def test_the_profile_whose_handle_is_the_query_survives_the_cap(session, monkeypatch):
    for number in range(6):
        profiles.create(session, NewProfile(str(uuid.uuid4()), f"ann{number}", "Ann"))
    profiles.create(session, NewProfile(str(uuid.uuid4()), "Ann", "Someone"))
    session.commit()
    monkeypatch.setattr(search, "CANDIDATES", 2)
    found = search.search(session, "ANN", page=1, page_size=20)
    assert "Ann" in handles(found)
    assert search.search(session, "ann zzz", page=1, page_size=20).total == 0


def test_below_the_cap_every_match_is_ranked_in_the_same_order(session, monkeypatch):
    ranked = handles(search.search(session, "ann", page=1, page_size=20))
    monkeypatch.setattr(search, "CANDIDATES", 3)
    assert handles(search.search(session, "ann", page=1, page_size=20)) == ranked
    assert [handles(search.search(session, "ann", page=n, page_size=1))[0]
            for n in (1, 2, 3)] == ranked
    assert search.search(session, "ann", page=4, page_size=1) == search.Page([], 3)
