"""Images are deleted once no profile shows them (pentest I2: a replaced image, or a deleted
account's, stayed public at its URL)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import orm

from tessera_shared.outbox import Event
from tessera_shared.platform import Platform
from tessera_shared.transactions import unit_of_work
from tests.images import encoded
from tests.integration.test_read_your_writes import signed_up
from user_service import consumers, images
from user_service.extensions import Helpers
from user_service.models import Profile
from user_service.models import db as user_db


def upload(browser, slot: str, color: str) -> str:
    answer = browser.post(f"/v0/user/me/{slot}", data={
        "file": (io.BytesIO(encoded("PNG", color=color)), "picture.png")},
        content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["image_url"].split("/media/", 1)[1]


def shown(services, key: str) -> int:
    return services.apps["user"].test_client().get(f"/media/{key}").status_code


def test_a_replaced_image_is_gone_and_the_new_one_is_served(services):
    _, browser = signed_up(services)
    first = upload(browser, "profile-image", "teal")
    assert shown(services, first) == 200
    second = upload(browser, "profile-image", "olive")
    assert (shown(services, first), shown(services, second)) == (404, 200)
    assert browser.delete("/v0/user/me/profile-image").status_code == 204
    assert shown(services, second) == 404


def test_uploading_the_same_picture_again_keeps_it(services):
    _, browser = signed_up(services)
    first = upload(browser, "banner-image", "teal")
    assert upload(browser, "banner-image", "teal") == first
    assert shown(services, first) == 200


def test_a_deleted_accounts_images_are_gone(services):
    user, browser = signed_up(services)
    keys = [upload(browser, "profile-image", "teal"), upload(browser, "banner-image", "navy")]
    assert browser.delete("/v0/user/me", json={"password": user["password"]}).status_code == 204
    assert [shown(services, key) for key in keys] == [404, 404]


def test_one_persons_picture_is_not_deleted_with_anothers(services):
    pictures = []
    for _ in range(2):
        _, browser = signed_up(services)
        pictures.append((browser, upload(browser, "profile-image", "teal")))
    (first, first_key), (_, second_key) = pictures
    assert first_key != second_key  # the same bytes, stored for each owner
    assert first.delete("/v0/user/me/profile-image").status_code == 204
    assert (shown(services, first_key), shown(services, second_key)) == (404, 200)


def test_a_file_shown_by_two_profiles_from_before_owner_keys_stays_while_one_shows_it(services):
    user_app = services.apps["user"]
    media = Platform.of(user_app).settings.var_dir / "media"
    key = f"{images.FOLDER}/{uuid.uuid4().hex}.webp"
    (media / key).parent.mkdir(parents=True, exist_ok=True)
    (media / key).write_bytes(encoded("WEBP"))
    browsers = []
    for _ in range(2):
        user, browser = signed_up(services)
        browsers.append(browser)
        with user_app.app_context():
            user_db.session.execute(sa.update(Profile).where(
                Profile.handle == user["handle"]).values(profile_image=key))
            user_db.session.commit()
    assert browsers[0].delete("/v0/user/me/profile-image").status_code == 204
    assert shown(services, key) == 200
    assert browsers[1].delete("/v0/user/me/profile-image").status_code == 204
    assert shown(services, key) == 404


def test_a_profile_removed_through_the_event_stream_takes_its_images(services):
    """The consumer's path: auth could not reach user-service when the account went."""
    _, browser = signed_up(services)
    key = upload(browser, "profile-image", "teal")
    user_id = browser.get("/v0/user/me").get_json()["id"]
    user_app = services.apps["user"]
    platform = Platform.of(user_app)
    handler = consumers.handlers(Helpers.of(user_app).media)["user.deleted"]
    event = Event(id="e1", type="user.deleted", source="auth", occurred_at=datetime.now(UTC),
                  data={"user_id": user_id})
    with orm.Session(platform.engine) as session, unit_of_work(session):
        handler(session, event)  # as the consumer runs it, in a unit of work of its own
    assert shown(services, key) == 404
