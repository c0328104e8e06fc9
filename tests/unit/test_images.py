import io
import threading

import pytest
from PIL import Image, ImageFile

from tessera_shared.errors import DomainError
from tests.images import encoded, pixel_bomb, png_claiming
from user_service import images
from user_service.storage import FolderStore


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


def test_storage_is_addressed_by_owner_and_content(tmp_path):
    first = images.store(FolderStore(tmp_path), b"same bytes", "webp", owner="u1")
    assert first == images.store(FolderStore(tmp_path), b"same bytes", "webp", owner="u1")
    assert first.startswith("user-images/")
    assert first.endswith(".webp")
    assert (tmp_path / first).read_bytes() == b"same bytes"
    assert images.store(FolderStore(tmp_path), b"other bytes", "webp", owner="u1") != first
    # Nobody can tell from a URL who else has the same picture, or delete theirs with it.
    assert images.store(FolderStore(tmp_path), b"same bytes", "webp", owner="u2") != first


def test_two_writers_of_one_image_never_write_into_each_others_file(tmp_path):
    """Two instances (or threads) storing the same image, or making the same scaled copy."""
    key = images.store(FolderStore(tmp_path), b"first", "webp", owner="u1")
    (tmp_path / key).unlink()
    others = [tmp_path / key.replace(".webp", ".part"), tmp_path / f"{key}.part"]
    for other in others:  # where the other writer may be halfway through its copy
        other.write_bytes(b"half")
    assert images.store(FolderStore(tmp_path), b"first", "webp", owner="u1") == key
    assert (tmp_path / key).read_bytes() == b"first"
    assert [other.read_bytes() for other in others] == [b"half", b"half"]


def test_discarding_an_image_deletes_its_scaled_copies_and_nothing_else(tmp_path):
    large, other = (images.store(FolderStore(tmp_path), images.process(encoded("PNG", (1200, 600)),
                                                          images.PROFILE)[0], "webp", owner=o)
                    for o in ("u1", "u2"))
    for key in (large, other):
        images.fitted(FolderStore(tmp_path), key, 450, 30)
    images.discard(FolderStore(tmp_path), [large, "user-images/gone.webp"])
    assert sorted(p.name for p in (tmp_path / "user-images").iterdir()) == sorted([
        other.split("/")[1], other.split("/")[1].replace(".webp", "-450q30.webp")])


def test_a_fitted_copy_is_made_once_for_large_images_and_gifs(tmp_path):
    media = FolderStore(tmp_path)
    small = images.store(media, images.process(encoded("PNG", (300, 200)),
                                               images.PROFILE)[0], "webp", owner="u1")
    assert images.fitted(media, small, 450, 30) == (tmp_path / small).read_bytes()
    for kind, size in (("PNG", (1200, 600)), ("GIF", (100, 50))):
        key = images.store(media, *images.process(encoded(kind, size), images.PROFILE),
                           owner="u1")
        first = images.fitted(media, key, 450, 30)
        with Image.open(io.BytesIO(first)) as image:
            assert (image.format, image.size) == (
                "WEBP", (450, 225) if kind == "PNG" else (100, 50))
        assert images.fitted(FolderStore(tmp_path), key, 450, 30) == first
        assert (tmp_path / key.replace(f".{key.rsplit('.', 1)[1]}", "-450q30.webp")).exists()
    assert images.fitted(FolderStore(tmp_path), "user-images/gone.webp", 450, 30) is None


@pytest.mark.parametrize("slot", [images.PROFILE, images.BANNER])
def test_an_image_over_the_pixel_budget_is_refused_from_its_header_without_decoding(
        slot, monkeypatch):
    bomb, decoded_any = pixel_bomb(), []
    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded_any.append)
    with pytest.raises(DomainError) as caught:
        images.process(bomb, slot)
    assert caught.value.status == 400
    assert "7000 x 7000" in caught.value.message
    assert decoded_any == []


def test_the_largest_image_within_the_budget_is_taken():
    side = images.MAX_SIDE_DECODED
    data, _ = images.process(encoded("PNG", (side, side // 4)), images.BANNER)
    assert decoded(data).size == (2000, 500)
    with pytest.raises(DomainError):
        images.process(png_claiming(side + 1, side), images.BANNER)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    photo, sizes = encoded("JPEG", (4000, 3000)), []
    load = ImageFile.ImageFile.load

    def recording_load(self):
        sizes.append(self.size)  # what the decoder is about to fill, after draft()
        return load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording_load)
    avatar = images.Slot("avatar", 4 << 20, "avatar", max_side=450, quality=30)
    data, _ = images.process(photo, avatar)
    assert decoded(data).size == (450, 338)
    assert sizes[0] == (1000, 750)  # 1/4 scale: twice the fitted size, a sixteenth of the memory


def test_image_work_waits_for_a_free_core_and_gives_its_memory_back(monkeypatch):
    released = []
    monkeypatch.setattr(images, "_release_memory", lambda: released.append(True))
    monkeypatch.setattr(images, "_slots", threading.BoundedSemaphore(1))
    with images._slots:  # every core busy: a new image waits its turn
        waiting = threading.Thread(target=images.process,
                                   args=(encoded("PNG"), images.PROFILE))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()
    waiting.join(10)
    assert not waiting.is_alive()
    assert released == [True]
