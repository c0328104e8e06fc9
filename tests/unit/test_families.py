import json

import pytest

from tessera_shared.errors import DomainError
from tessera_shared.families import Family, error_body, error_response_body, family_for_path

ERROR = DomainError("system:not_found", 404, "Nothing here.")


@pytest.mark.parametrize(("path", "family"), [
    ("/v0/users", Family.V0),
    ("/health-check", Family.V0),
    ("/api/get/uuid/ann", Family.REGISTRY),
    ("/api/register/init", Family.REGISTRY),
    ("/ws/omikron", Family.REGISTRY),
    ("/api", Family.REGISTRY),
    ("/api/login/", Family.USERS_API),
    ("/api/users/register", Family.USERS_API),
    ("/user/create", Family.USER_API),
    ("/users", Family.V0),
])
def test_each_path_belongs_to_one_family(path, family):
    assert family_for_path(path) is family


def test_v0_errors_carry_status_code_and_details():
    assert error_body(Family.V0, ERROR) == {
        "status": 404, "code": "system:not_found", "details": "Nothing here."}


def test_registry_errors_use_the_authserver_envelope_and_its_route_message():
    assert error_body(Family.REGISTRY, ERROR) == {
        "type": "error", "log": {"message": "Route not found", "log_level": 1}}


def test_user_api_errors_write_the_status_as_a_string():
    assert error_body(Family.USER_API, ERROR)["statusCode"] == "404"


def test_users_api_errors_say_success_false():
    body = error_body(Family.USERS_API, ERROR)
    assert body["success"] is False
    assert body["data"]["message"] == "NOT_FOUND"


def test_rendered_bodies_are_compact_json():
    assert json.loads(error_response_body("/v0/x", ERROR))["code"] == "system:not_found"
