"""user-service's internal API, called as auth and registry call it (signed), in process."""

from __future__ import annotations

import uuid

import pytest


def call(services, method, path, payload=None):
    return services.apps["auth"].extensions["tessera"].internal.call("user", method, path,
                                                                     payload)


@pytest.mark.parametrize(("payload", "code"), [
    (None, "general:bad_request"),
    ({"id": "not a uuid", "handle": "someone", "display_name": "Someone"},
     "general:bad_request"),
    ({"id": str(uuid.uuid4()), "handle": "", "display_name": "Someone"},
     "general:validation_error"),
    ({"id": str(uuid.uuid4()), "handle": "h" * 65, "display_name": "Someone"},
     "general:validation_error"),
])
def test_a_profile_that_cannot_be_made_is_a_clear_400(services, payload, code):
    answer = call(services, "POST", "/internal/profiles", payload)
    assert (answer.status, answer.data["code"]) == (400, code)


def test_image_sizes_are_asked_for_together(services):
    user_id = str(uuid.uuid4())
    made = call(services, "POST", "/internal/profiles",
                {"id": user_id, "handle": f"u{user_id[:8]}", "display_name": "Someone"})
    assert made.status == 201
    half = call(services, "GET", f"/internal/profiles/{user_id}?image_side=64")
    assert (half.status, half.data["code"]) == (400, "general:bad_request")
    both = call(services, "GET", f"/internal/profiles/{user_id}?image_side=64&image_quality=50")
    assert both.status == 200
    assert both.data["image"] is None  # no image yet
