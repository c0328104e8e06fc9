"""v0 profile and banner images, uploaded through the gateway and served back from it."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import signed_in
from tests.images import encoded, pixel_bomb, png_claiming


@pytest.fixture
def member(platform):
    user, client, _user_id = signed_in(platform)
    return user, client


def upload(platform, client, slot, data, name="picture.png"):
    return client.post(f"{platform.url}/v0/user/me/{slot}", files={"file": (name, data)})


def test_an_uploaded_profile_image_is_served_as_webp_under_the_public_url(platform, member):
    user, client = member
    answer = upload(platform, client, "profile-image", encoded("PNG", (3000, 1500)))
    assert answer.status_code == 201
    url = answer.json()["image_url"]
    assert url.startswith(f"{platform.url}/media/user-images/")
    assert url.endswith(".webp")
    served = requests.get(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/webp"
    assert "max-age=31536000" in served.headers["Cache-Control"]
    assert "Set-Cookie" not in served.headers  # a cached answer hands no one an id
    assert Image.open(io.BytesIO(served.content)).size == (2000, 1000)
    me = client.get(f"{platform.url}/v0/user/me").json()
    assert me["profile_image"] == url  # full URL here, as in the original
    public = requests.get(f"{platform.url}/v0/users/profile",
                          params={"handle": user["handle"]}).json()
    assert url.endswith(public["profile_image"])  # the storage key here
    assert public["profile_image"].startswith("user-images/")


def test_a_gif_banner_is_kept_byte_for_byte(platform, member):
    _, client = member
    gif = encoded("GIF", mode="P")
    answer = upload(platform, client, "banner-image", gif, "banner.gif")
    assert answer.status_code == 201
    assert requests.get(answer.json()["image_url"]).content == gif


def test_deleting_an_image_twice_gives_the_originals_404(platform, member):
    _, client = member
    upload(platform, client, "profile-image", encoded("JPEG"))
    assert client.delete(f"{platform.url}/v0/user/me/profile-image").status_code == 204
    assert "profile_image" not in client.get(f"{platform.url}/v0/user/me").json()
    again = client.delete(f"{platform.url}/v0/user/me/profile-image")
    assert (again.status_code, again.json()["code"]) == (404, "system:not_found")


@pytest.mark.parametrize(("data", "status"), [
    (b"not an image at all", 400),
    (encoded("PNG")[:60], 400),                              # truncated
    (b"\x89PNG\r\n\x1a\n" + encoded("JPEG")[8:], 400),       # lying about its type
    (png_claiming(60_000, 60_000), 400),                     # decompression bomb
    (pixel_bomb(), 400),                                     # ... and a real one, 190 KB
    (b"", 400),
])
def test_broken_and_hostile_uploads_are_refused(platform, member, data, status):
    _, client = member
    answer = upload(platform, client, "profile-image", data)
    assert answer.status_code == status
    assert answer.json()["status"] == status


def test_uploads_over_the_limit_are_refused_before_they_are_stored(platform, member):
    _, client = member
    answer = upload(platform, client, "profile-image", b"\x89PNG\r\n\x1a\n" + b"0" * (5 << 20))
    assert answer.status_code in {400, 413}
    assert "profile_image" not in client.get(f"{platform.url}/v0/user/me").json()


def test_an_upload_needs_the_file_field_and_a_session(platform, member):
    _, client = member
    missing = client.post(f"{platform.url}/v0/user/me/profile-image",
                          files={"other": ("x.png", encoded("PNG"))})
    assert (missing.status_code, missing.json()["code"]) == (400, "general:bad_request")
    anonymous = requests.post(f"{platform.url}/v0/user/me/profile-image",
                              files={"file": ("x.png", encoded("PNG"))})
    assert anonymous.status_code == 401


def test_unknown_media_is_a_404_and_paths_cannot_escape_the_media_folder(platform):
    assert requests.get(f"{platform.url}/media/user-images/nope.webp").status_code == 404
    assert requests.get(f"{platform.url}/media/..%2F..%2Fsecrets.json").status_code == 404
