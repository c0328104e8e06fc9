import io

import pytest
from PIL import Image

from tessera_shared.errors import DomainError
from tests.images import encoded, png_claiming
from user_service import images


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_stills_become_lossless_webp(fmt):
    data, extension = images.process(encoded(fmt), images.PROFILE)
    assert extension == "webp"
    assert decoded(data).format == "WEBP"
    assert decoded(data).size == (64, 48)


def test_large_images_are_scaled_to_fit_2000_pixels_keeping_their_shape():
    data, _ = images.process(encoded("PNG", (4000, 1000)), images.BANNER)
    assert decoded(data).size == (2000, 500)


def test_gifs_are_kept_as_they_are():
    gif = encoded("GIF", mode="P")
    assert images.process(gif, images.PROFILE) == (gif, "gif")


def test_palette_and_transparent_images_survive_the_conversion():
    data, _ = images.process(encoded("PNG", mode="LA", color=(10, 128)), images.PROFILE)
    assert decoded(data).mode == "RGBA"


@pytest.mark.parametrize(("data", "why"), [
    (b"", "empty"),
    (b"just some text, not an image", "unknown type"),
    (encoded("PNG")[:60], "truncated"),
    (b"\x89PNG\r\n\x1a\n" + encoded("JPEG")[8:], "lying magic"),
    (b"\xff\xd8\xff" + encoded("PNG")[3:], "PNG dressed as JPEG"),
    (png_claiming(60_000, 60_000), "decompression bomb"),
])
def test_broken_or_hostile_files_are_refused_as_bad_requests(data, why):
    with pytest.raises(DomainError) as caught:
        images.process(data, images.PROFILE)
    assert caught.value.status == 400, why


def test_a_file_over_the_slots_limit_is_refused():
    with pytest.raises(DomainError) as caught:
        images.process(b"\x89PNG\r\n\x1a\n" + b"0" * (4 << 20), images.PROFILE)
    assert caught.value.code == "file:read_error"


def test_storage_is_content_addressed(tmp_path):
    first = images.store(tmp_path, b"same bytes", "webp")
    assert first == images.store(tmp_path, b"same bytes", "webp")
    assert first.startswith("user-images/")
    assert first.endswith(".webp")
    assert (tmp_path / first).read_bytes() == b"same bytes"
    assert images.store(tmp_path, b"other bytes", "webp") != first


def test_a_fitted_copy_is_made_once_for_large_images_and_gifs(tmp_path):
    small = images.store(tmp_path, images.process(encoded("PNG", (300, 200)),
                                                  images.PROFILE)[0], "webp")
    assert images.fitted(tmp_path, small, 450, 30) == (tmp_path / small).read_bytes()
    for kind, size in (("PNG", (1200, 600)), ("GIF", (100, 50))):
        key = images.store(tmp_path, *images.process(encoded(kind, size), images.PROFILE))
        first = images.fitted(tmp_path, key, 450, 30)
        with Image.open(io.BytesIO(first)) as image:
            assert (image.format, image.size) == (
                "WEBP", (450, 225) if kind == "PNG" else (100, 50))
        assert images.fitted(tmp_path, key, 450, 30) == first
        assert (tmp_path / key.replace(f".{key.rsplit('.', 1)[1]}", "-450q30.webp")).exists()
    assert images.fitted(tmp_path, "user-images/gone.webp", 450, 30) is None
