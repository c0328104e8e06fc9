"""Each family's document: its own error envelope, its status for a refused argument, and the
credential an operation takes."""

from __future__ import annotations

from gateway.docs import DocumentedMethods
from tessera_shared.openapi import by_family

BAD_REQUEST = {"$ref": "#/components/responses/BAD_REQUEST"}


def spec() -> dict:
    return {"paths": {
        "/v0/user/me": {"get": {"responses": {"200": {}}, "security": [{"session": []}]}},
        "/api/users/register": {"post": {"responses": {"200": {}, "400": BAD_REQUEST}}},
        "/api/get/iota-id/{user_id}": {"get": {"responses": {"200": {}}, "parameters": [
            {"in": "header", "name": "Authorization", "required": True}]}},
        "/user/logged": {"get": {"responses": {}, "security": [{"token": []}]}},
    }, "components": {"responses": {"DEFAULT_ERROR": {}}}}


def schema_of(response: dict) -> str:
    return response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]


def test_every_operation_refuses_in_its_familys_envelope():
    paths = by_family(spec())["paths"]
    assert [schema_of(ops[m]["responses"]["default"]) for ops in paths.values()
            for m in ops] == ["ErrorEnvelope", "UsersApiEnvelope", "RegistryFailure",
                              "UserApiEnvelope"]


def test_a_refused_argument_has_the_familys_status():
    responses = by_family(spec())["paths"]["/api/users/register"]["post"]["responses"]
    assert "400" not in responses
    assert schema_of(responses["422"]) == "UsersApiEnvelope"


def test_credentials_are_security_schemes_and_v0_says_401():
    document = by_family(spec())
    iota = document["paths"]["/api/get/iota-id/{user_id}"]["get"]
    assert iota["security"] == [{"omikron": []}]
    assert iota["parameters"] == []
    assert "401" in document["paths"]["/v0/user/me"]["get"]["responses"]
    assert "401" not in document["paths"]["/user/logged"]["get"]["responses"]  # 404, its way
    assert set(document["components"]["securitySchemes"]) == {
        "session", "token", "basic", "omikron"}


class Cache:
    def __init__(self, complete: bool) -> None:
        self.complete = complete

    def get(self) -> tuple[dict, bool]:
        return {"paths": {"/v0/auth/sessions/revoke-others": {"post": {}},
                          "/v0/auth/sessions/{session_id}": {"delete": {}},
                          "/v0/user/me": {"get": {}, "patch": {}, "parameters": []}}
                }, self.complete


def test_a_path_takes_the_methods_of_its_most_specific_template():
    methods = DocumentedMethods(Cache(complete=True))  # type: ignore[arg-type]
    assert methods.of("/v0/auth/sessions/revoke-others") == {"POST"}
    assert methods.of("/v0/auth/sessions/abc") == {"DELETE"}
    assert methods.of("/v0/user/me") == {"GET", "PATCH"}
    assert methods.of("/v0/nowhere") is None


def test_nothing_is_known_until_every_service_gave_its_document():
    assert DocumentedMethods(Cache(complete=False)).of("/v0/user/me") is None  # type: ignore[arg-type]
