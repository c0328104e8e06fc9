"""Both media stores keep one contract: the local folder, and a bucket on a real
S3-compatible server on loopback."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import pytest
from PIL import Image

from tessera_shared.errors import DomainError
from tests.images import encoded
from tests.objectstore import ObjectStore
from user_service import images
from user_service.storage import BucketStore, FolderStore, MediaStore


@pytest.fixture(scope="module")
def object_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ObjectStore]:
    running = ObjectStore.start(tmp_path_factory.mktemp("s3") / "moto.log")
    yield running
    running.stop()


@pytest.fixture(params=["folder", "bucket"])
def media(request: pytest.FixtureRequest, tmp_path) -> MediaStore:
    if request.param == "folder":
        return FolderStore(tmp_path)
    server: ObjectStore = request.getfixturevalue("object_store")
    return BucketStore(server.client(), server.new_bucket(f"b{uuid.uuid4().hex[:12]}"),
                       "tessera/")


def test_an_object_is_read_back_whole_and_a_missing_one_is_none(media):
    assert media.read("user-images/none.webp") is None
    media.write("user-images/a.webp", b"bytes of a")
    media.write("user-images/a.webp", b"bytes of a")  # a second writer of the same key
    assert media.read("user-images/a.webp") == b"bytes of a"


def test_keys_are_found_by_their_start_and_deleted_together(media):
    for key in ("user-images/ab.webp", "user-images/ab-450q30.webp", "user-images/abc.webp"):
        media.write(key, b"x")
    assert sorted(media.keys("user-images/ab-")) == ["user-images/ab-450q30.webp"]
    media.delete(["user-images/ab.webp", "user-images/ab-450q30.webp", "user-images/gone.webp"])
    assert media.keys("user-images/ab") == ["user-images/abc.webp"]


def test_an_image_its_scaled_copies_and_their_discarding_work_on_either(media):
    key = images.store(media, images.process(encoded("PNG", (1200, 600)), images.PROFILE)[0],
                       "webp", owner="u1")
    fitted = images.fitted(media, key, 450, 30)
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.size == (450, 225)
    assert images.fitted(media, key, 450, 30) == fitted  # kept, not made again
    images.discard(media, [key])
    assert media.keys(images.FOLDER) == []
    assert images.fitted(media, key, 450, 30) is None


def test_a_store_that_refuses_is_unavailable_and_discarding_after_a_commit_carries_on(
        object_store):
    gone = BucketStore(object_store.client(), "no-such-bucket", "")
    with pytest.raises(DomainError) as refused:
        gone.read("user-images/a.webp")
    assert (refused.value.status, refused.value.code) == (503, "system:service_unavailable")
    images.discard(gone, ["user-images/a.webp"])  # the objects stay behind, logged
