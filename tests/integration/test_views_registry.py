"""The registry REST family's refusals, in process. Its Iota and Omikron flows are in
tests/e2e."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"", b'"text"'])
def test_unreadable_bodies_count_as_missing_values(services, raw):
    answer = services.client("registry").post("/api/register/complete", data=raw,
                                              content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["log"]["message"] == (
        "User registration failed: User creation failed due to missing values")


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/api/get", 400, "Invalid user path"),
    ("/api/get/a/b", 400, "Invalid user path"),
])
def test_paths_the_registry_serves_answer_as_the_original(services, path, status, message):
    answer = services.client("registry").get(path)
    assert answer.status_code == status
    assert answer.get_json() == {"type": "error", "log": {"message": message, "log_level": 1}}


def test_a_registration_id_is_open_for_one_hour(services):
    started = services.client("registry").get("/api/register/init")
    user_id = started.get_json()["data"]["user_id"]
    redis = services.apps["registry"].extensions["tessera"].redis
    assert 3_590_000 < redis.pttl(f"registry:pending:{user_id}") <= 3_600_000
