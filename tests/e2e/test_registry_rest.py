"""The registry REST API (document 000) through the gateway, driven like Tensamin's Iota,
Omikron and Frontend drive the original."""

from __future__ import annotations

import base64
import io
import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import (
    RunningPlatform,
    eventually,
    new_user,
    signed_in,
    tessera,
    unique,
    visitor,
)
from tests.images import encoded, pixel_bomb
from tests.tensamin import Iota, IotaUser, Omikron, new_reset_token, register_omikron

NINE_KEYS = {"created_at", "username", "display", "avatar", "about", "status", "public_key",
             "sub_level", "sub_end"}


@pytest.fixture
def iota(platform: RunningPlatform) -> Iota:
    return Iota(platform.url, visitor())


@pytest.fixture
def user(iota: Iota) -> IotaUser:
    return iota.create_user(unique("r")[:15])


def registry_cli(platform: RunningPlatform, *args: str) -> str:
    done = tessera(platform, "registry", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def png(width: int, height: int) -> bytes:
    """Noise: what lossy quality shows most on."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG")
    return out.getvalue()


# -- the Iota's sign-up and lookups -------------------------------------------------------

def test_an_iota_registers_a_user_and_reads_all_nine_keys_back(iota: Iota,
                                                               user: IotaUser) -> None:
    found = iota.uuid_of(user.username)
    assert found == {"status": 200, "type": "success", "log": {
        "message": f"Got uuid for {user.username}", "log_level": 0},
        "data": {"user_id": user.user_id}}
    profile = iota.profile(user.user_id)
    assert profile["log"] == {"message": "Got user", "log_level": 0}
    data = profile["data"]
    assert set(data) == NINE_KEYS
    assert data["username"] == user.username
    assert data["public_key"] == user.public_key
    assert (data["avatar"], data["sub_level"], data["sub_end"]) == (None, 0, 0)
    assert data["created_at"] > 1_600_000_000_000  # milliseconds, as the original


def test_registration_ids_work_once(iota: Iota,
                                                              platform: RunningPlatform) -> None:
    started = iota.call("GET", "/api/register/init/")
    user_id = started["data"]["user_id"]
    user = IotaUser("once" + unique()[:8])
    body = {"uuid": user_id, "username": user.username, "public_key": user.public_key,
            "private_key_hash": user.private_key_hash, "iota_id": iota.iota_id,
            "reset_token": user.reset_token}
    assert iota.call("POST", "/api/register/complete", body)["type"] == "success"
    again = iota.call("POST", "/api/register/complete",
                      {**body, "username": "x" + user.username, "reset_token": new_reset_token()})
    assert again["status"] == 400
    assert again["log"] == {"message": "User registration failed: User creation failed due to "
                                       "invalid UUID", "log_level": 1}


def test_one_address_cannot_open_registrations_without_end(platform: RunningPlatform) -> None:
    flooder = Iota(platform.url, visitor())
    statuses = [flooder.call("GET", "/api/register/init")["status"] for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    assert Iota(platform.url, visitor()).call("GET", "/api/register/init")["status"] == 200


def test_an_id_never_issued_is_refused(iota: Iota) -> None:
    user = IotaUser("never" + unique()[:8])
    answer = iota.call("POST", "/api/register/complete", {
        "uuid": "01900000-0000-7000-8000-000000000000", "username": user.username,
        "public_key": user.public_key, "private_key_hash": user.private_key_hash,
        "iota_id": iota.iota_id, "reset_token": user.reset_token})
    assert answer["type"] == "error"
    assert answer["log"]["message"].endswith("due to invalid UUID")


def test_usernames_are_normalised_as_the_original(iota: Iota) -> None:
    name = unique("n")[:10]
    user = iota.create_user(f"{name.upper()}.-!")
    assert iota.profile(user.user_id)["data"]["username"] == name
    assert iota.uuid_of(name.upper())["data"]["user_id"] == user.user_id


def test_a_failed_sign_up_keeps_its_registration_id(iota: Iota, user: IotaUser) -> None:
    started = iota.call("GET", "/api/register/init")["data"]["user_id"]
    other = IotaUser(user.username)
    body = {"uuid": started, "username": user.username, "public_key": other.public_key,
            "private_key_hash": other.private_key_hash, "iota_id": iota.iota_id,
            "reset_token": other.reset_token}
    taken = iota.call("POST", "/api/register/complete", body)
    assert (taken["status"], taken["log"]["message"]) == (
        409, "User registration failed: Username is taken")
    retried = iota.call("POST", "/api/register/complete", {**body, "username": unique("k")})
    assert retried["type"] == "success"


def test_two_sign_ups_for_one_username_one_wins(platform: RunningPlatform) -> None:
    name = unique("c")[:12]
    iotas = [Iota(platform.url, visitor()) for _ in range(6)]

    def attempt(iota: Iota) -> str:
        try:
            return iota.create_user(name).user_id
        except AssertionError:
            return ""

    with ThreadPoolExecutor(6) as pool:
        winners = [user_id for user_id in pool.map(attempt, iotas) if user_id]
    assert len(winners) == 1
    assert iotas[0].uuid_of(name)["data"]["user_id"] == winners[0]


# -- one user base ------------------------------------------------------------------------

def test_a_registry_user_is_a_tessera_user(platform: RunningPlatform, user: IotaUser) -> None:
    shown = requests.get(f"{platform.url}/v0/users/profile", params={"handle": user.username},
                         timeout=10)
    assert shown.status_code == 200
    assert shown.json()["id"] == user.user_id
    taken = visitor().post(f"{platform.url}/v0/users",
                           json=new_user(handle=user.username.upper()), timeout=10)
    assert taken.status_code == 409


def test_a_v0_users_handle_is_found_by_the_registry(platform: RunningPlatform,
                                                    iota: Iota) -> None:
    form = new_user()
    assert visitor().post(f"{platform.url}/v0/users", json=form, timeout=10).status_code == 201
    user_id = iota.uuid_of(form["handle"])["data"]["user_id"]
    data = iota.profile(user_id)["data"]
    assert set(data) == NINE_KEYS
    assert (data["username"], data["display"], data["public_key"]) == (
        form["handle"], form["display_name"], None)


def test_a_large_image_uploaded_elsewhere_comes_back_as_a_450_pixel_avatar(
        platform: RunningPlatform, iota: Iota) -> None:
    form, client, _user_id = signed_in(platform)
    for kind, size in (("PNG", (1800, 1200)), ("GIF", (300, 200))):
        uploaded = client.post(f"{platform.url}/v0/user/me/profile-image", timeout=10,
                               files={"file": ("picture", encoded(kind, size))})
        assert uploaded.status_code == 201
        avatar = iota.profile(iota.uuid_of(form["handle"])["data"]["user_id"])["data"]["avatar"]
        assert avatar.startswith("data:image/webp;base64,")
        with Image.open(io.BytesIO(base64.b64decode(avatar.split(",", 1)[1]))) as image:
            assert (image.format, max(image.size)) == ("WEBP", min(450, max(size)))


# -- changes ------------------------------------------------------------------------------

def test_a_profile_change_needs_the_private_key_hash(iota: Iota, user: IotaUser) -> None:
    wrong = iota.call("POST", f"/api/change/{user.user_id}",
                      {"private_key_hash": "0" * 64, "display": "Mallory"})
    assert (wrong["status"], wrong["log"]) == (
        403, {"message": "Failed to change user: Permission Denied", "log_level": 0})
    missing = iota.call("POST", f"/api/change/{user.user_id}", {"display": "x"})
    assert missing["log"]["message"] == "Failed to change user: Missing Values"
    changed = iota.call("POST", f"/api/change/{user.user_id}/", {
        "private_key_hash": user.private_key_hash, "display": "Alice", "status": "away",
        "about": base64.b64encode(b"hello").decode()})
    assert changed["log"] == {"message": "Changed user", "log_level": 0}
    data = changed["data"]
    assert (data["display"], data["status"], data["about"]) == ("Alice", "away", "aGVsbG8=")
    assert data["uuid"] == user.user_id
    assert not {"private_key_hash", "token", "reset_token"} & set(data)
    assert iota.profile(user.user_id)["data"]["display"] == "Alice"


def test_null_clears_and_limits_hold(iota: Iota, user: IotaUser) -> None:
    secret = {"private_key_hash": user.private_key_hash}
    iota.call("POST", f"/api/change/{user.user_id}", {**secret, "status": "busy"})
    cleared = iota.call("POST", f"/api/change/{user.user_id}", {**secret, "status": None})
    assert cleared["data"]["status"] == ""
    too_long = iota.call("POST", f"/api/change/{user.user_id}", {**secret, "display": "d" * 16})
    assert (too_long["status"], too_long["log"]["message"]) == (
        400, "Failed to change user: display may be at most 15 characters")
    not_text = iota.call("POST", f"/api/change/{user.user_id}", {**secret, "about": 7})
    assert not_text["log"]["message"] == "Failed to change user: about must be a string"
    other = iota.create_user(unique("t")[:12])
    taken = iota.call("POST", f"/api/change/{user.user_id}",
                      {**secret, "username": other.username.upper()})
    assert (taken["status"], taken["log"]["message"]) == (
        409, "Failed to change user: Username is taken")


def test_the_avatar_comes_back_as_webp_sized_by_subscription(platform: RunningPlatform,
                                                             iota: Iota,
                                                             user: IotaUser) -> None:
    upload = "data:image/png;base64," + base64.b64encode(png(900, 600)).decode()
    changed = iota.call("POST", f"/api/change/{user.user_id}",
                        {"private_key_hash": user.private_key_hash, "avatar": upload})
    avatar = changed["data"]["avatar"]
    assert avatar.startswith("data:image/webp;base64,")
    free = base64.b64decode(avatar.split(",", 1)[1])
    with Image.open(io.BytesIO(free)) as image:
        assert (image.format, image.size) == ("WEBP", (450, 300))
    assert iota.profile(user.user_id)["data"]["avatar"] == avatar

    assert "level 1 for 30 days" in registry_cli(platform, "subscription", user.username,
                                                 "1", "30")
    premium = iota.call("POST", f"/api/change/{user.user_id}",
                        {"private_key_hash": user.private_key_hash, "avatar": upload})["data"]
    assert (premium["sub_level"], premium["sub_end"]) == (1, 30)
    assert len(base64.b64decode(premium["avatar"].split(",", 1)[1])) > len(free)

    garbage = iota.call("POST", f"/api/change/{user.user_id}", {
        "private_key_hash": user.private_key_hash,
        "avatar": base64.b64encode(b"not an image at all").decode()})
    assert garbage["status"] == 400
    assert garbage["log"]["message"].startswith("Failed to change user: Unsupported image")

    bomb = iota.call("POST", f"/api/change/{user.user_id}", {
        "private_key_hash": user.private_key_hash,
        "avatar": "data:image/png;base64," + base64.b64encode(pixel_bomb()).decode()})
    assert bomb["status"] == 400
    assert "7000 x 7000 pixels" in bomb["log"]["message"]
    assert iota.profile(user.user_id)["data"]["avatar"] == premium["avatar"]


def test_moving_to_another_iota_rotates_the_reset_token(iota: Iota, user: IotaUser,
                                                        platform: RunningPlatform) -> None:
    old_token = user.reset_token
    moved = iota.migrate_user(user, "a6a1b4a0-2f6e-4d3e-9a55-0c1e5b2f9e11")
    assert moved["log"] == {"message": "Changed iota id", "log_level": 0}
    replayed = iota.call("POST", f"/api/change/iota-id/{user.user_id}", {
        "iota_id": iota.iota_id, "reset_token": old_token, "new_token": new_reset_token()})
    assert (replayed["status"], replayed["log"]["message"]) == (
        403, "Failed to change iota id: Permission Denied")
    omikron = Omikron(platform.url, register_omikron(platform.var_dir))
    assert omikron.iota_id_of(user.user_id).json()["data"] == {
        "iota_id": "a6a1b4a0-2f6e-4d3e-9a55-0c1e5b2f9e11"}


def test_new_keys_need_the_reset_token_and_replace_the_hash(iota: Iota,
                                                            user: IotaUser) -> None:
    old_hash = user.private_key_hash
    user.new_keys()
    new_token = new_reset_token()
    body = {"private_key_hash": user.private_key_hash, "public_key": user.public_key,
            "reset_token": "wrong" * 10, "new_token": new_token}
    refused = iota.call("POST", f"/api/change/keys/{user.user_id}", body)
    assert refused["log"]["message"] == "Failed to change keys: Permission Denied"
    changed = iota.call("POST", f"/api/change/keys/{user.user_id}",
                        {**body, "reset_token": user.reset_token})
    assert changed["log"] == {"message": "Changed keys", "log_level": 0}
    user.reset_token = new_token
    assert iota.profile(user.user_id)["data"]["public_key"] == user.public_key
    stale = iota.call("POST", f"/api/change/{user.user_id}",
                      {"private_key_hash": old_hash, "display": "x"})
    assert stale["log"]["message"] == "Failed to change user: Permission Denied"


def test_deleting_needs_the_reset_token_and_frees_the_username(platform: RunningPlatform,
                                                               iota: Iota,
                                                               user: IotaUser) -> None:
    wrong = iota.call("POST", f"/api/delete/{user.user_id}", {"reset_token": "x" * 32})
    assert (wrong["status"], wrong["log"]) == (403, {
        "message": "User deletion failed: Operation failed: Bad Token", "log_level": 1})
    deleted = iota.delete_user(user)
    assert deleted["log"] == {"message": f"Deleted User: {user.user_id}", "log_level": 0}
    gone = iota.profile(user.user_id)
    assert (gone["status"], gone["log"]["message"]) == (
        404, "Failed to retrieve user profile: User not found")
    again = iota.delete_user(user)
    assert again["log"]["message"] == "User deletion failed: Operation failed: UUID not found."
    assert iota.create_user(user.username).user_id != user.user_id

    def logged() -> set[str]:
        page = requests.get(f"{platform.url}/v0/action-logs",
                            params={"limit": 100, "user_id": user.user_id}, timeout=10).json()
        return {entry["action"] for entry in page["data"]}

    eventually(lambda: {"user:create", "user:delete"} <= logged())


# -- Omikron endpoints --------------------------------------------------------------------

def test_omikron_questions_need_a_registered_omikron(platform: RunningPlatform,
                                                     user: IotaUser) -> None:
    url = f"{platform.url}/api/get/iota-id/{user.user_id}"
    anonymous = visitor().get(url, timeout=10)
    assert (anonymous.status_code, anonymous.json()["log"]) == (
        401, {"message": "Failed to get iota id: Permission Denied", "log_level": 1})
    unknown = visitor().get(url, headers={"Authorization": "6e4a0f0e-5a55-4c77-8f6f-1f6ad4c9a1b2"},
                            timeout=10)
    assert unknown.json()["log"]["message"] == (
        "Failed to get iota id: Operation failed: UUID not found.")

    omikron = Omikron(platform.url, register_omikron(platform.var_dir), visitor())
    answer = omikron.iota_id_of(user.user_id).json()
    assert answer == {"type": "success", "log": {"message": "Got iota id", "log_level": 1},
                      "data": {"iota_id": user.user_id}}
    matches = omikron.key_matches(user.user_id, user.private_key_hash).json()
    assert matches["log"] == {"message": "Got private key hash", "log_level": 1}
    assert matches["data"] == {"matches": True}
    assert omikron.key_matches(user.user_id, "f" * 64).json()["data"] == {"matches": False}
    assert registry_cli(platform, "omikron", "remove", str(omikron.registered.number))
    assert omikron.iota_id_of(user.user_id).status_code == 403


def test_guessing_omikron_ids_is_throttled_per_address(platform: RunningPlatform,
                                                      user: IotaUser) -> None:
    guesser = visitor()
    omikron = Omikron(platform.url, register_omikron(platform.var_dir), guesser)
    url = f"{platform.url}/api/get/iota-id/{user.user_id}"
    for _ in range(36):  # 30 free, then the wait doubles: a minute after the last one
        guesser.get(url, headers={"Authorization": str(uuid.uuid4())}, timeout=10)
    # From that address even a registered Omikron's id is now answered like a wrong one...
    held = omikron.iota_id_of(user.user_id)
    assert (held.status_code, held.json()["log"]["message"]) == (
        403, "Failed to get iota id: Operation failed: UUID not found.")
    # ...while the same Omikron from its own address is served.
    omikron.http = visitor()
    assert omikron.iota_id_of(user.user_id).status_code == 200


# -- the envelope, paths and origins ------------------------------------------------------

@pytest.mark.parametrize(("path", "status", "message"), [
    ("/api/nothing", 404, "Route not found"),
    ("/api", 404, "Route not found"),
])
def test_paths_answer_as_the_original(platform: RunningPlatform, path: str, status: int,
                                      message: str) -> None:
    answer = visitor().get(platform.url + path, timeout=10)
    assert answer.status_code == status
    assert answer.json() == {"type": "error", "log": {"message": message, "log_level": 1}}


def test_any_method_on_get_reads_and_uuids_are_echoed(iota: Iota, user: IotaUser) -> None:
    assert iota.call("POST", f"/api/get/{user.user_id}")["data"]["username"] == user.username
    echoed = iota.uuid_of(user.user_id)
    assert echoed["log"]["message"] == f"Got user for {user.user_id}"
    assert echoed["data"] == {"user_id": user.user_id}


def test_browser_origins_are_checked_against_the_allow_list(platform: RunningPlatform,
                                                            user: IotaUser) -> None:
    url = f"{platform.url}/api/get/{user.user_id}"
    foreign = visitor().get(url, headers={"Origin": "https://evil.example"}, timeout=10)
    assert (foreign.status_code, foreign.json()["log"]["message"]) == (
        403, "CORS origin rejected")
    assert "Access-Control-Allow-Origin" not in foreign.headers
    preflight = visitor().options(url, headers={"Origin": "https://evil.example",
                                                "Access-Control-Request-Method": "POST"},
                                  timeout=10)
    assert preflight.status_code == 403
    own = visitor().get(url, headers={"Origin": platform.url}, timeout=10)
    assert own.status_code == 200
    assert own.headers["Access-Control-Allow-Origin"] == platform.url


def test_values_of_the_wrong_type_are_named(iota: Iota) -> None:
    started = iota.call("GET", "/api/register/init")["data"]["user_id"]
    user = IotaUser("typed")
    answer = iota.call("POST", "/api/register/complete", {
        "uuid": started, "username": 42, "public_key": user.public_key,
        "private_key_hash": user.private_key_hash, "iota_id": started,
        "reset_token": user.reset_token})
    assert (answer["status"], answer["log"]["message"]) == (
        400, "User registration failed: username must be a string")


def test_oversized_bodies_are_refused_in_the_envelope(platform: RunningPlatform) -> None:
    answer = visitor().post(f"{platform.url}/api/register/complete",
                            data=b"{" + b" " * (2 << 20) + b"}",
                            headers={"Content-Type": "application/json"}, timeout=10)
    assert answer.status_code == 413
    assert answer.json()["type"] == "error"


def test_a_reset_token_works_once_even_when_two_changes_race(platform: RunningPlatform,
                                                             user: IotaUser) -> None:
    token = user.reset_token

    def move(target: str) -> int:
        return Iota(platform.url, visitor()).call(
            "POST", f"/api/change/iota-id/{user.user_id}",
            {"iota_id": target, "reset_token": token, "new_token": new_reset_token()})["status"]

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(move, [str(uuid.uuid4()) for _ in range(6)]))
    assert statuses.count(200) == 1
    assert set(statuses) == {200, 403}


@pytest.mark.parametrize("secret", ["private_key_hash", "reset_token"])
def test_lone_surrogates_and_deep_json_in_registry_bodies_are_refused_not_crashes(
        iota: Iota, user: IotaUser, secret: str) -> None:
    path = (f"/api/change/{user.user_id}" if secret == "private_key_hash"
            else f"/api/delete/{user.user_id}")
    surrogate = iota.http.post(f"{iota.base}{path}", data=f'{{"{secret}":"\\ud800"}}',
                               headers={"Content-Type": "application/json"}, timeout=10)
    assert 400 <= surrogate.status_code < 500, surrogate.text
    assert surrogate.json()["type"] == "error"
    deep = iota.http.post(f"{iota.base}{path}", data="[" * 100_000 + "]" * 100_000,
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert 400 <= deep.status_code < 500, deep.text
    assert deep.json()["type"] == "error"
    assert iota.profile(user.user_id)["data"]["username"] == user.username


def test_a_guesser_cannot_lock_out_the_iota_that_proved_the_user_s_secret_before(
        platform: RunningPlatform, iota: Iota, user: IotaUser) -> None:
    change = f"/api/change/{user.user_id}"
    assert iota.call("POST", change, {"private_key_hash": user.private_key_hash,
                                      "display": "owner"})["status"] == 200
    for _ in range(12):
        Iota(platform.url, visitor()).call("POST", change, {
            "private_key_hash": os.urandom(32).hex(), "display": "x"})
    again = iota.call("POST", change, {"private_key_hash": user.private_key_hash,
                                       "display": "still the owner"})
    assert (again["status"], again["data"]["display"]) == (200, "still the owner")
