import json

import pytest

from tessera_shared.errors import DomainError
from tessera_shared.families import Family, error_body, family_for_path, render_error

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
    assert body["data"] == {"message": "NOT_FOUND", "details": "Nothing here."}


@pytest.mark.parametrize(("error", "status", "body"), [
    (DomainError("general:validation_error", 400, "password: too short."), 422,
     {"success": "false", "data": {"message": "INVALID_INPUT", "details": "password: too short."}}),
    (DomainError("auth:invalid_credentials", 401, "Wrong."), 401,
     {"success": "false", "data": {"message": "INVALID_PASSWORD", "details": "Wrong."}}),
    (DomainError("user:unauthorized", 401, "Sign in."), 401,
     {"success": False, "data": {"message": "PLEASE_LOGIN", "details": "Sign in."}}),
    (DomainError("system:method_not_allowed", 405, "No."), 422,
     {"success": "false", "data": {"message": "INVALID_METHOD", "details": "No."}}),
])
def test_users_api_errors_take_the_originals_statuses_and_messages(error, status, body):
    assert render_error("/api/users/register", error) == (
        status, json.dumps(body, separators=(",", ":")).encode())


def test_other_families_keep_the_errors_status():
    status, body = render_error("/v0/x", ERROR)
    assert status == 404
    assert json.loads(body)["code"] == "system:not_found"
