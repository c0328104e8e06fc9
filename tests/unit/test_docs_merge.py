from gateway.docs import merge_specs


def spec(paths, schemas):
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas},
            "tags": [{"name": "T"}]}


def op(ref):
    return {"responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{ref}"}}}}}}


def test_only_paths_the_gateway_routes_to_that_service_are_published():
    merged = merge_specs({
        "auth": spec({"/v0/users": {"post": op("Message")}, "/health/ready": {"get": {}},
                      "/internal/accounts/{user_id}": {"get": {}}},
                     {"Message": {"type": "object"}}),
        "user": spec({"/v0/users/profile": {"get": op("Profile")},
                      "/v0/users": {"post": {}}}, {"Profile": {"type": "object"}}),
    }, "http://127.0.0.1:8080")
    assert set(merged["paths"]) == {"/v0/users", "/v0/users/profile"}
    assert merged["paths"]["/v0/users"]["post"] == op("Message")  # auth's, not user's


def test_clashing_component_names_are_prefixed_and_their_refs_follow():
    merged = merge_specs({
        "auth": spec({"/v0/auth/login": {"post": op("Error")}}, {"Error": {"title": "auth"}}),
        "user": spec({"/v0/user/me": {"get": op("Error")}}, {"Error": {"title": "user"}}),
    }, "http://x")
    schemas = merged["components"]["schemas"]
    assert schemas["Error"] == {"title": "auth"}
    assert schemas["UserError"] == {"title": "user"}
    ref = merged["paths"]["/v0/user/me"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/UserError"


def test_identical_components_are_shared_and_tags_are_listed_once():
    shared = {"Error": {"type": "object"}}
    merged = merge_specs({"auth": spec({}, shared), "user": spec({}, shared)}, "http://x")
    assert list(merged["components"]["schemas"]) == ["Error"]
    assert merged["tags"] == [{"name": "T"}]
