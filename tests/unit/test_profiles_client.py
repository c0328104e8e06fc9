"""The profiles client tells "no such user" from "no answer": only user-service's 404 is
the first."""

import pytest

from tessera_shared.clients.profiles import Profiles
from tessera_shared.errors import DomainError
from tessera_shared.internal import InternalClient, InternalResponse


class Answering(InternalClient):
    """user-service as far as the client can tell: one status for every call."""

    def __init__(self, status: int, data: object) -> None:
        super().__init__("registry", b"k" * 32, {"user": ("http://127.0.0.1:9",)})
        self.answer = InternalResponse(status, data)

    def call(self, *_args: object, **_kwargs: object) -> InternalResponse:
        return self.answer


NOT_FOUND = {"code": "user:not_found", "details": {}}


def test_only_a_not_found_answer_means_there_is_no_such_user():
    profiles = Profiles(Answering(404, NOT_FOUND))
    assert profiles.find("nobody") is None
    assert profiles.get("3f1e3a56-6c1b-4d0b-9d39-1b1bb8f0e8a1") is None


@pytest.mark.parametrize(("status", "code"), [
    (400, "system:validation_failed"), (401, "system:unauthorized_internal_call"),
    (403, "system:forbidden"), (404, "system:not_found")])  # the last: a path not served
def test_a_refused_call_is_no_answer_rather_than_no_such_user(status, code):
    # A signature refused as a replay once made a registry lookup say "UUID not found".
    profiles = Profiles(Answering(status, {"code": code, "details": {}}))
    for look_up in (lambda: profiles.find("someone"),
                    lambda: profiles.get("3f1e3a56-6c1b-4d0b-9d39-1b1bb8f0e8a1")):
        with pytest.raises(DomainError) as caught:
            look_up()
        assert caught.value.status == 503


def test_a_refused_signature_is_never_passed_on_as_the_clients_own_refusal():
    profiles = Profiles(Answering(401, {"code": "system:unauthorized_internal_call",
                                        "details": {}}))
    with pytest.raises(DomainError) as caught:
        profiles.edit("3f1e3a56-6c1b-4d0b-9d39-1b1bb8f0e8a1", {"bio": "x"})
    assert caught.value.status == 503
