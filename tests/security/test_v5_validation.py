"""ASVS V5 and V12, input: whatever arrives, in whatever shape or encoding, each family
answers with its own clear 4xx and keeps nothing of it; files are what their bytes say."""

from __future__ import annotations

import base64
import http.client
import json
import secrets

import pytest
import requests

from tests.e2e.conftest import new_user, signed_in, unique, visitor
from tests.images import encoded, pixel_bomb, png_claiming
from tests.tensamin import Iota

# A signed-out write of each family that takes a JSON body, with a body it takes (the
# registry's writes need a registration or a key first; its JSON rules are the same code).
WRITES = {
    "v0": ("/v0/users", new_user),
    "users API": ("/api/users/register", lambda: {
        "username": unique(), "password": "correct horse battery staple",
        "email": f"{unique()}@example.com"}),
    "user API": ("/user/create", lambda: {
        "username": unique(), "password": "correct horse battery staple",
        "email": f"{unique()}@example.com"}),
}


def refused_in_envelope(answer: requests.Response) -> dict:
    """A 4xx with a JSON body (each family's envelope), never a 5xx or an HTML page."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    return answer.json()


def handle_free(platform, body: dict) -> bool:
    handle = body.get("handle") or body.get("username")
    return handle is None or requests.get(
        f"{platform.url}/v0/users/handle/{handle}/available", timeout=10).json() == {
        "available": True}


@pytest.mark.asvs("V13.2.5")
@pytest.mark.parametrize("family", WRITES)
@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None])
def test_v13_2_5_a_body_that_is_not_json_is_refused_by_every_family(platform, family,
                                                                    content_type):
    path, body = WRITES[family]
    sent = body()
    headers = {"Content-Type": content_type} if content_type else {}
    answer = visitor().post(f"{platform.url}{path}", data=json.dumps(sent).encode(),
                            headers=headers, timeout=10)
    refused_in_envelope(answer)
    assert handle_free(platform, sent)


# Each spoils a body the family takes (`{...}` is its JSON without the closing brace).
MALFORMED = {
    "cut short": lambda body: body[:-1],
    "a trailing comma": lambda body: body[:-1] + b",}",
    "NaN": lambda body: body[:-1] + b', "bio": NaN}',  # not JSON, though Python's reader takes it
    "not UTF-8": lambda body: body[:-1] + b', "bio": "\xff\xfe"}',
    "a list": lambda body: b"[" + body + b"]",
    "a string": lambda body: json.dumps(body.decode()).encode(),
    "null": lambda _body: b"null",
}


@pytest.mark.asvs("V5.1.4", "V13.2.2")
@pytest.mark.parametrize("family", WRITES)
@pytest.mark.parametrize("spoil", MALFORMED.values(), ids=MALFORMED.keys())
def test_v5_1_4_malformed_json_is_a_4xx_in_every_family(platform, family, spoil):
    path, body = WRITES[family]
    sent = body()
    refused_in_envelope(visitor().post(f"{platform.url}{path}", timeout=10,
                                       data=spoil(json.dumps(sent).encode()),
                                       headers={"Content-Type": "application/json"}))
    assert handle_free(platform, sent)
    taken = visitor().post(f"{platform.url}{path}", json=sent, timeout=10)  # the control
    assert taken.status_code < 300, taken.text


# Odd text, and whether a display name may carry it (handles keep to [A-Za-z0-9_] anyway).
ODD_TEXT = [
    ("nul\x00inside", False),         # NUL
    ("\ud800", False),                # a lone surrogate (not a character)
    ("bell\x07", False),              # a control character
    (" \u3000 ", False),              # only white space
    ("\u202eevil", True),             # right-to-left override: a format character, as
    ("\U0001f469\u200d\U0001f52c", True),  # ...emoji sequences need (this one has a ZWJ)
]


@pytest.mark.asvs("V5.1.3", "V5.1.4")
@pytest.mark.parametrize(("text", "a_name"), ODD_TEXT, ids=range(len(ODD_TEXT)))
def test_v5_1_3_nul_bytes_and_odd_unicode_are_refused_where_they_do_not_belong(platform, text,
                                                                             a_name):
    for family, field in (("v0", "handle"), ("users API", "username"),
                          ("user API", "username")):
        path, body = WRITES[family]
        sent = {**body(), field: f"{unique()}{text}"}
        # \ud800 goes as the escape JSON allows, as a client would send it
        answer = visitor().post(f"{platform.url}{path}", data=json.dumps(sent).encode(),
                                headers={"Content-Type": "application/json"}, timeout=10)
        refused_in_envelope(answer)
    _, client, _ = signed_in(platform)
    name = text if text.isspace() else f"Name {text}"
    changed = client.patch(f"{platform.url}/v0/user/me", timeout=10,
                           data=json.dumps({"display_name": name}).encode(),
                           headers={"Content-Type": "application/json"})
    if a_name:
        assert (changed.status_code, changed.json()["display_name"]) == (200, name)
    else:
        assert refused_in_envelope(changed)["code"] == "general:validation_error"
        assert client.get(f"{platform.url}/v0/user/me", timeout=10).json()[
            "display_name"] != name


def upload(platform, client, data, name="picture.png"):
    return client.post(f"{platform.url}/v0/user/me/profile-image", timeout=30,
                       files={"file": (name, data)})


@pytest.mark.asvs("V12.1.2", "V12.2.1")
@pytest.mark.parametrize("data", [
    b"not an image at all",
    encoded("PNG")[:60],                                     # truncated
    b"\x89PNG\r\n\x1a\n" + encoded("JPEG")[8:],            # lying about its type
    png_claiming(60_000, 60_000),                            # a decompression bomb's header
    pixel_bomb(),                                            # ... and a real one, 190 KB
    b"",
], ids=["text", "truncated", "lying", "claimed-bomb", "bomb", "empty"])
def test_v12_1_2_bombs_and_files_that_are_not_images_are_refused(platform, data):
    _, client, _ = signed_in(platform)
    answer = upload(platform, client, data)
    assert (answer.status_code, answer.json()["status"]) == (400, 400)
    assert "profile_image" not in client.get(f"{platform.url}/v0/user/me", timeout=10).json()


@pytest.mark.asvs("V12.1.2")
def test_v12_1_2_a_bomb_sent_to_the_registry_as_an_avatar_is_refused(platform):
    iota = Iota(platform.url, visitor())
    user = iota.create_user(unique())
    answer = iota.call("POST", f"/api/change/{user.user_id}", {
        "private_key_hash": user.private_key_hash,
        "avatar": base64.b64encode(pixel_bomb()).decode()})
    assert 400 <= answer["status"] < 500, answer
    assert answer["type"] == "error"
    assert not iota.profile(user.user_id)["data"].get("avatar")


@pytest.mark.asvs("V5.1.4")
@pytest.mark.parametrize("body", [
    b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end",  # unterminated
    b"--y\r\n\r\n--y--\r\n",                       # another boundary than declared
    b"",
    b"--x--\r\n",                                     # no parts
])
def test_v5_1_4_malformed_multipart_is_a_400(platform, body):
    _, client, _ = signed_in(platform)
    answer = client.post(f"{platform.url}/v0/user/me/profile-image", data=body, timeout=10,
                         headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert (answer.status_code, answer.json()["code"]) == (400, "general:bad_request")


@pytest.mark.asvs("V12.1.1")
def test_v12_1_1_a_declared_length_over_the_cap_is_refused_before_the_body_is_read(platform):
    host, port = platform.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/v0/users")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(64 << 30))
    connection.endheaders()
    connection.send(b"{" + secrets.token_hex(8).encode())
    answer = connection.getresponse()
    assert answer.status == 413
    assert json.loads(answer.read())["code"] == "system:payload_too_large"
    connection.close()


def post_raw(platform, path, body: bytes, content_type="application/json"):
    return requests.post(f"{platform.url}{path}", data=body,
                         headers={"Content-Type": content_type})


@pytest.mark.asvs("V5.1.4")
def test_v5_1_4_a_refused_sign_up_writes_no_profile(platform):
    user = new_user(password="password1")  # too common
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 400
    available = requests.get(f"{platform.url}/v0/users/handle/{user['handle']}/available")
    assert available.json() == {"available": True}


@pytest.mark.asvs("V12.1.1")
def test_v12_1_1_bodies_over_a_mebibyte_are_refused_at_the_gateway(platform):
    huge = json.dumps({**new_user(), "bio": "b" * (2 << 20)}).encode()
    response = post_raw(platform, "/v0/users", huge)
    assert response.status_code == 413
    assert response.json()["code"] == "system:payload_too_large"


@pytest.mark.asvs("V5.1.3", "V5.3.2")
def test_v5_1_3_unicode_names_are_welcome_and_handles_keep_to_one_alphabet(platform):
    user = new_user(handle=f"Zoe{secrets.token_hex(3)}", display_name="Zoë Ångström 🌿")
    assert requests.post(f"{platform.url}/v0/users", json=user).status_code == 201
    profile = requests.get(f"{platform.url}/v0/users/profile",
                           params={"handle": user["handle"].lower()}).json()
    assert profile["display_name"] == "Zoë Ångström 🌿"
    accented = requests.post(f"{platform.url}/v0/users",
                             json=new_user(handle=f"Zoë{secrets.token_hex(3)}"))
    assert accented.status_code == 400
    assert "the letters a-z and A-Z, the digits 0-9 and _" in accented.json()["details"]


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.asvs("V5.1.4", "V13.2.2")
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v0/auth/login"),
    ("POST", "/v0/users"),
    ("PATCH", "/v0/user/me"),
    ("POST", "/api/login"),
    ("POST", "/api/users/modifypassword"),
])
def test_v5_1_4_json_nested_100_000_deep_is_malformed_not_a_crash(platform, method, path):
    _, client, _ = signed_in(platform)
    answer = client.request(method, f"{platform.url}{path}", data=DEEP, timeout=10,
                            headers={"Content-Type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()  # in the family's envelope


@pytest.mark.asvs("V5.1.5")
@pytest.mark.parametrize("path", ["/media//etc/passwd", "/api/users//info",
                                  "/api/get//uuid/someone", "/v0//users/handle/x/available"])
def test_v5_1_5_redirects_never_show_a_service_s_internal_address(platform, path):
    host, port = platform.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)  # sent as it is: no client-side slash merging
    answer = connection.getresponse()
    answer.read()
    location = answer.getheader("Location")
    assert answer.status < 500
    if location is not None:
        assert location.startswith("/"), location
        assert not location.startswith("//"), location  # another host, to a browser
    internal = [url for name, url in platform.facts.items() if name.endswith("_url")
                and name != "public_url" and url.startswith("http")]
    assert not any(url in (location or "") for url in internal)

