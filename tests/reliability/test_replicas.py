"""Replicas: with two instances of everything, one instance of each service and one gateway
killed by PID under load, and clients keep working meanwhile and afterwards; images in a
bucket both user-service instances share; Omikron presence, the first sign-up and throttling
across instances."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import eventually, new_user, signed_in, unique, visitor
from tests.e2e.test_registry_websocket import register_over_socket
from tests.e2e.test_users_api import message_of, register
from tests.images import encoded
from tests.objectstore import ObjectStore
from tests.reliability.platforms import own_platform
from tests.tensamin import Omikron, register_omikron

pytestmark = pytest.mark.reliability


class Load:
    """Clients reading from every service through the gateway, each on its own connection,
    until stopped; every answer's status is counted by what was read."""

    def __init__(self, url: str, session: requests.Session, paths: dict[str, str]) -> None:
        self.url = url
        self.session = session
        self.paths = paths
        self.answers: Counter[tuple[str, int | str]] = Counter()
        self.refusals: list[str] = []  # what any answer other than 200 said
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(name,))
                        for name in paths for _ in range(2)]

    def _read(self, name: str) -> None:
        client = requests.Session()  # its own connection to the gateway
        client.headers.update(self.session.headers)
        client.cookies.update(self.session.cookies)
        while not self.stopping.is_set():
            try:
                answer = client.get(self.url + self.paths[name], timeout=30)
            except requests.ConnectionError:
                # The gateway instance holding this connection was killed: what any client
                # does, once, is ask again on a new connection.
                client.close()
                try:
                    answer = client.get(self.url + self.paths[name], timeout=30)
                except requests.ConnectionError:
                    self.answers[name, "connection lost twice"] += 1
                    continue
            self.answers[name, answer.status_code] += 1
            if answer.status_code != 200:
                self.refusals.append(f"{name}: {answer.status_code} {answer.text[:200]}")

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join()


def test_killing_one_instance_of_each_service_and_a_gateway_under_load_loses_no_read(
        tmp_path):
    with own_platform(tmp_path / "var", replicas=2) as running:
        user, client, _ = signed_in(running)
        paths = {"user": f"/v0/users/handle/{user['handle']}/available",
                 "auth": "/v0/auth/totp/status",
                 "registry": f"/api/get/uuid/{user['handle']}",
                 "events": "/v0/action-logs?limit=5"}
        before = running.facts["pids"]
        with Load(running.url, client, paths) as load:
            load.run_for(2)
            for name in ("user-2", "auth-2", "registry-2", "events-2", "gateway-2"):
                os.killpg(before[name], signal.SIGKILL)  # the gunicorn master and its worker
            load.run_for(3)
        failed = {key: count for key, count in load.answers.items() if key[1] != 200}
        assert not failed, f"answers other than 200 while instances died: {load.refusals}"
        assert all(load.answers[name, 200] > 20 for name in paths), load.answers

        # The launcher starts each one again, and the gateway sends it requests once ready.
        eventually(lambda: all(running.facts["pids"].get(name, before[name]) != before[name]
                               for name in ("user-2", "auth-2", "registry-2", "events-2",
                                            "gateway-2")), timeout=90)
        eventually(lambda: requests.get(f"{running.url}/health/ready", timeout=10).json()
                   ["instances"] == {name: ["ok", "ok"] for name in paths}, timeout=30)
        # Writes go through every service as before: a sign-up, its session, its profile.
        fresh = new_user()
        assert requests.post(f"{running.url}/v0/users", json=fresh,
                             timeout=30).status_code == 201
        signed = requests.Session()
        assert signed.post(f"{running.url}/v0/auth/login", json={
            "email": fresh["email"], "password": fresh["password"]},
            timeout=30).status_code == 204
        assert signed.get(f"{running.url}/v0/user/me", timeout=30).json()["handle"] == \
            fresh["handle"]


@pytest.fixture
def object_store(tmp_path) -> Iterator[ObjectStore]:
    running = ObjectStore.start(tmp_path / "moto.log")
    yield running
    running.stop()


def test_two_user_service_instances_share_their_images_in_a_bucket(tmp_path, object_store):
    bucket = object_store.new_bucket("tessera-media")
    env = {"MEDIA_URL": f"s3://{bucket}/images", **object_store.env()}
    with own_platform(tmp_path / "var", env, replicas=2) as running:
        _, client, _ = signed_in(running)
        uploaded = client.post(f"{running.url}/v0/user/me/profile-image",
                               files={"file": ("p.png", encoded("PNG", (900, 600)))})
        assert uploaded.status_code == 201
        url = uploaded.json()["image_url"]
        # Each instance's turn comes: both serve what one of them stored.
        served = [requests.get(url, timeout=10) for _ in range(4)]
        assert [answer.status_code for answer in served] == [200] * 4
        assert len({answer.content for answer in served}) == 1
        key = url.split("/media/", 1)[1]
        stored = object_store.client().list_objects_v2(Bucket=bucket)["Contents"]
        assert [item["Key"] for item in stored] == [f"images/{key}"]
        assert not (tmp_path / "var" / "media").exists()  # nothing on either's disk

        assert client.delete(f"{running.url}/v0/user/me/profile-image",
                             timeout=10).status_code == 204
        assert [requests.get(url, timeout=10).status_code for _ in range(2)] == [404, 404]
        assert "Contents" not in object_store.client().list_objects_v2(Bucket=bucket)


def test_what_an_omikron_on_one_registry_instance_reports_the_other_instance_knows(tmp_path):
    with own_platform(tmp_path / "var", replicas=2) as running:
        first, second = running.facts["registry_urls"]  # straight to each instance
        reporter = register_omikron(running.var_dir)
        here = Omikron(first, reporter).connect()
        there = Omikron(second, register_omikron(running.var_dir)).connect()
        try:
            number, _ = register_over_socket(here, unique("x")[:12])
            here.send("iota_connected", {"iota_id": number})
            here.send("user_connected", {"user_id": number})
            here.ask("get_user_data", {"user_id": number})  # both reports are in
            data = there.ask("get_user_data", {"user_id": number})["data"]
            assert (data["online_status"], data["omikron_connections"], data["omikron_id"]) == (
                "user_online", [reporter.number], reporter.number)
        finally:
            here.close()
            there.close()


def test_with_two_auth_instances_one_first_sign_up_wins_and_guesses_are_counted_together(
        tmp_path):
    env = {"REGISTRATION_OPEN": "false", "TRUSTED_PROXIES": "127.0.0.1/32"}
    with own_platform(tmp_path / "var", env, replicas=2) as running:
        start, answers = threading.Barrier(4), []

        def first_sign_up() -> None:
            client = visitor()
            start.wait()  # the four arrive together, at either auth instance
            answers.append(register(running, client)[1])

        contenders = [threading.Thread(target=first_sign_up) for _ in range(4)]
        for thread in contenders:
            thread.start()
        for thread in contenders:
            thread.join()
        assert sorted(message_of(answer)[2] for answer in answers) == [
            "CANT_CREATE_USER"] * 3 + ["USER_INSERT_OK"]

        # Wrong passwords sent to either instance count for one account: five, as with one.
        user = new_user()
        assert requests.post(f"{running.url}/v0/users", json=user, timeout=30).status_code == 201
        guesser, login = visitor(), f"{running.url}/v0/auth/login"
        for n in range(5):
            assert guesser.post(login, json={"email": user["email"], "password": f"guess {n}"},
                                timeout=30).status_code == 401
        right = {"email": user["email"], "password": user["password"]}
        assert visitor().post(login, json=right, timeout=30).status_code == 401
