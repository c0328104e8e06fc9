"""`GET /v0/search/users` through the gateway, with the original's parameters and shape."""

from __future__ import annotations

import requests

from tests.e2e.conftest import new_user, unique


def test_a_search_finds_users_by_word_beginnings_with_the_originals_shape(platform):
    word = unique("zq")
    people = [new_user(display_name=f"{word} Person"), new_user(display_name="Nobody Else")]
    for person in people:
        assert requests.post(f"{platform.url}/v0/users", json=person).status_code == 201
    answer = requests.get(f"{platform.url}/v0/search/users",
                          params={"query": word[:6], "page": 1, "page_size": 5})
    assert answer.status_code == 200
    body = answer.json()
    assert body["page"] == 1
    assert body["page_size"] == 5
    assert body["total_hits"] == 1
    assert body["total_pages"] == 1
    (hit,) = body["users"]
    assert hit["handle"] == people[0]["handle"]
    assert set(hit) == {"id", "handle", "display_name"}  # no bio, no image: left out


def test_without_a_query_everyone_is_listed_page_by_page(platform):
    requests.post(f"{platform.url}/v0/users", json=new_user())
    answer = requests.get(f"{platform.url}/v0/search/users",
                          params={"page": 1, "page_size": 1}).json()
    assert answer["total_hits"] >= 1
    assert answer["total_pages"] == answer["total_hits"]
    assert len(answer["users"]) == 1
