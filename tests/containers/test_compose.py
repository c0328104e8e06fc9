"""The image and docker-compose.yml for real, under Podman: the images built as CI can (a
Debian base made here, wheels fetched on the host), the compose project up, healthy, used
through the published port by every family, a service container restarted, and everything
taken down again without a trace."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tessera_launcher.processes import free_port
from tessera_shared.config import SERVICES
from tests.containers.podman import ROOT, Podman, PodmanError, missing_tools
from tests.e2e.conftest import unique
from tests.e2e.test_users_api import registered, ssid_of
from tests.e2e.test_v0_action_logs import read_until_someone_signs_up
from tests.e2e.test_v0_totp import password_step, verify, with_totp
from tests.mailbox import Inbox, MaildirInbox
from tests.tensamin import Iota

pytestmark = pytest.mark.containers

MISSING = missing_tools()
if MISSING and os.environ.get("CI"):
    raise pytest.UsageError(f"CI is set but {', '.join(MISSING)} missing: `./tessera test` "
                            "installs them as root with apt-get; see its output above.")
if MISSING:
    pytest.skip(f"needs {', '.join(MISSING)}: `./tessera test` installs them as root, else "
                "apt-get install podman runc debootstrap", allow_module_level=True)

RUN = secrets.token_hex(4)  # this run's images and project, apart from any other's
BASE, TESSERA, POSTGRES, REDIS, MAILSINK = (
    f"localhost/tessera-ci-{RUN}/{name}:latest"
    for name in ("debian", "tessera", "postgres", "redis", "mailsink"))
IMAGES = ROOT / "tests" / "containers" / "images"
PROCESSES = (*SERVICES, "gateway")


@dataclass
class ComposedPlatform:
    """The compose project as the e2e helpers see a platform: its URL and where mail goes."""

    url: str
    mailbox: Inbox


@pytest.fixture(scope="module")
def podman(request: pytest.FixtureRequest) -> Podman:
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def say(message: str) -> None:  # progress shows while the test runs, not only after
        with capture.global_and_fixture_disabled():
            print(f"\n  containers: {message}", end="", flush=True)

    return Podman(say=say)


@pytest.fixture(scope="module")
def images(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    work = tmp_path_factory.mktemp("images")
    try:
        podman.import_debian_base(BASE, work)
        podman.fetch_wheels(BASE, ROOT / "wheels", "-r", "/src/requirements.txt")
        podman.build(TESSERA, ROOT, base=BASE, args={"PIP_NO_INDEX": "1"})
        for tag, folder in ((POSTGRES, "postgres"), (REDIS, "redis")):
            podman.build(tag, IMAGES / folder, base=BASE)
        sink = work / "mailsink"
        sink.mkdir()
        (sink / "Containerfile").write_bytes((IMAGES / "mailsink" / "Containerfile").read_bytes())
        podman.fetch_wheels(BASE, sink / "wheels", "aiosmtpd")
        podman.build(MAILSINK, sink, base=BASE)
        yield
    finally:
        podman.remove_images(TESSERA, POSTGRES, REDIS, MAILSINK, BASE)


def test_the_image_runs_every_process_as_a_user_without_compilers(podman: Podman, images):
    image = json.loads(podman.run("image", "inspect", TESSERA).stdout)[0]
    assert image["Config"]["User"] == "10001"
    assert image["Config"]["Entrypoint"] == ["tessera", "serve"]
    assert image["Healthcheck"]["Test"] == ["CMD", "tessera", "healthcheck"]
    found = podman.run("run", "--rm", "--entrypoint=sh", TESSERA, "-c",
                       "command -v gcc cc c++ make || true").stdout.split()
    assert found == []
    usage = podman.run("run", "--rm", TESSERA, "--help").stdout
    assert all(name in usage for name in PROCESSES)
    podman.say(f"the image is {podman.size_of(TESSERA) / 1e6:.0f} MB, "
               f"{podman.compressed_size_of(TESSERA) / 1e6:.0f} MB compressed")


@dataclass
class Project:
    """docker-compose.yml with CI's images and a mail sink, as one compose project."""

    podman: Podman
    name: str
    env: dict[str, str]
    url: str
    mail: MaildirInbox

    @property
    def files(self) -> list[str]:
        return ["-f", str(ROOT / "docker-compose.yml"),
                "-f", str(ROOT / "tests" / "containers" / "compose.ci.yml"), "-p", self.name]

    def up(self) -> None:
        self.podman.say("podman-compose up ...")
        self.podman.compose(*self.files, "up", "--detach", "--no-build", env=self.env)

    def down(self) -> None:
        self.podman.compose(*self.files, "down", "--volumes", "--timeout=10", env=self.env)

    def containers(self) -> list[str]:
        return self.podman.containers(self.name)

    def wait_until_ready(self) -> None:
        """Every container's health check passed, and the gateway says every service is
        ready."""
        self.podman.wait_until_healthy(self.containers(), timeout=240)
        answer = requests.get(f"{self.url}/health-check", timeout=10)
        assert answer.status_code == 204, answer.text


@pytest.fixture
def project(podman: Podman, images, tmp_path: Path) -> Iterator[Project]:
    """The project, up; taken down with its volumes afterwards, whatever happened."""
    mail = MaildirInbox(tmp_path / "mail")
    port = free_port()
    env = {"TESSERA_IMAGE": TESSERA, "POSTGRES_IMAGE": POSTGRES, "REDIS_IMAGE": REDIS,
           "MAILSINK_IMAGE": MAILSINK, "MAIL_DIR": str(mail.folder), "SMTP_URL": "smtp://mail:8025",
           "INTERNAL_SECRET": secrets.token_urlsafe(48), "SECRET_KEY": secrets.token_urlsafe(48),
           "PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    running = Project(podman, f"tessera-ci-{RUN}", env, f"http://127.0.0.1:{port}", mail)
    try:
        running.up()
        yield running
    finally:
        running.down()


def journey(platform: ComposedPlatform) -> None:
    """One client of each family, through the published port."""
    # v0: sign-up, the mailed link, login, TOTP on, and a login that needs its code.
    user, _, phone, _, _ = with_totp(platform)
    client, temp_token = password_step(platform, user)
    assert verify(platform, client, temp_token, phone.code()).status_code == 204
    assert client.get(f"{platform.url}/v0/user/me").json()["handle"] == user["handle"]
    # The registry: an Iota signs a user up, and anyone finds them by name.
    iota = Iota(platform.url)
    registry_user = iota.create_user(unique("r")[:15])
    found = iota.uuid_of(registry_user.username)
    assert found["data"]["user_id"] == registry_user.user_id, found
    # The users API: register, then a login's ssid.
    assert ssid_of(platform, registered(platform))
    # The live stream: the next sign-up arrives on it.
    with requests.get(f"{platform.url}/v0/eventstream/actions", stream=True,
                      timeout=30) as stream:
        read_until_someone_signs_up(platform, stream)


def test_the_compose_project_serves_every_family_survives_a_restart_and_leaves_nothing(
        podman: Podman, project: Project):
    platform = ComposedPlatform(project.url, project.mail)
    try:
        podman.say("waiting for every container's health check ...")
        project.wait_until_ready()
        podman.say("the journey through every family ...")
        journey(platform)
        podman.say("restarting the auth container, then the journey again ...")
        auth = next(name for name in project.containers() if "_auth_" in name)
        podman.run("restart", "--time=10", auth, timeout=60)
        project.wait_until_ready()
        journey(platform)
    except (AssertionError, PodmanError, requests.RequestException):
        for container in project.containers():
            print(f"--- podman logs {container}\n{podman.logs(container)}")
        raise

    project.down()
    assert podman.left_behind(project.name) == {"containers": [], "networks": [],
                                                "volumes": []}
