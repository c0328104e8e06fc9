"""The image and docker-compose.yml for real, under Podman: the images built as CI can (a
Debian base made here, wheels fetched outside the build), the compose project up, healthy,
used through the published port by every family, a service container restarted, and
everything taken down again without a trace. Bounded: 20 minutes for the whole module."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tessera_launcher.processes import free_port
from tessera_shared.config import SERVICES
from tests.authenticator import Authenticator
from tests.containers.podman import (
    PACKAGES,
    ROOT,
    Podman,
    PodmanError,
    copy_of_checkout,
    missing_tools,
)
from tests.e2e.conftest import unique
from tests.e2e.test_users_api import registered, ssid_of
from tests.e2e.test_v0_action_logs import read_until_someone_signs_up
from tests.e2e.test_v0_totp import password_step, verify, with_totp
from tests.mailbox import MaildirInbox
from tests.tensamin import Iota, IotaUser

pytestmark = [pytest.mark.containers, pytest.mark.timeout(1200)]

# debootstrap and rootful Podman need root.
MISSING = missing_tools() + (["root"] if os.geteuid() != 0 else [])
if MISSING and os.environ.get("CI"):
    raise pytest.UsageError(f"CI is set but the container test lacks {', '.join(MISSING)}: "
                            "`./tessera test` installs its tools as root with apt-get; see "
                            "its output above.")
if MISSING:
    pytest.skip(f"needs {', '.join(MISSING)}: `./tessera test` as root installs the tools, "
                f"else apt-get install {' '.join(PACKAGES)}", allow_module_level=True)

RUN = secrets.token_hex(4)  # this run's images and project, apart from any other's
BASE, TESSERA, POSTGRES, REDIS, MAILSINK = (
    f"localhost/tessera-ci-{RUN}/{name}:latest"
    for name in ("debian", "tessera", "postgres", "redis", "mailsink"))
IMAGES = ROOT / "tests" / "containers" / "images"
PROCESSES = (*SERVICES, "gateway")


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
        checkout = copy_of_checkout(work / "tessera")
        podman.fetch_wheels(BASE, checkout, "-r", "requirements.txt")
        podman.build(TESSERA, checkout, base=BASE, args={"PIP_NO_INDEX": "1"})
        for tag, folder in ((POSTGRES, "postgres"), (REDIS, "redis")):
            podman.build(tag, IMAGES / folder, base=BASE)
        sink = work / "mailsink"
        shutil.copytree(IMAGES / "mailsink", sink)
        podman.fetch_wheels(BASE, sink, "aiosmtpd")
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
                       "for tool in gcc cc c++ make ld; do command -v $tool; done; "
                       "/opt/tessera/bin/python -m pip --version; true").stdout.split()
    assert found == []  # no compiler, and no pip in Tessera's environment
    usage = podman.run("run", "--rm", TESSERA, "--help").stdout
    assert all(name in usage for name in PROCESSES)
    podman.say(f"the image is {podman.size_of(TESSERA) / 1e6:.0f} MB, "
               f"{podman.compressed_size_of(TESSERA) / 1e6:.0f} MB compressed")


@dataclass
class Project:
    """docker-compose.yml with CI's images and a mail sink, as one compose project; also
    the platform as the e2e helpers see one (`url`, `mailbox`)."""

    podman: Podman
    name: str
    env: dict[str, str]
    url: str
    mailbox: MaildirInbox
    is_up: bool = False

    @property
    def files(self) -> list[str]:
        return ["-f", str(ROOT / "docker-compose.yml"),
                "-f", str(ROOT / "tests" / "containers" / "compose.ci.yml"), "-p", self.name]

    def up(self) -> None:
        self.podman.say("podman-compose up ...")
        self.is_up = True
        self.podman.compose(*self.files, "up", "--detach", "--no-build", env=self.env)

    def down(self) -> None:
        if self.is_up:
            self.podman.compose(*self.files, "down", "--volumes", "--timeout=10",
                                env=self.env)
            self.is_up = False

    def containers(self, service: str | None = None) -> list[str]:
        return self.podman.containers(self.name, service)

    def wait_until_ready(self) -> None:
        """Every container's health check passed (each has one, the mail sink's aside), and
        the gateway says every service is ready."""
        checked = [name for name in self.containers() if name not in self.containers("mail")]
        assert len(checked) == len(PROCESSES) + 2  # and PostgreSQL and Redis
        assert all(self.podman.has_healthcheck(name) for name in checked)
        self.podman.wait_until_healthy(checked, timeout=240)
        answer = requests.get(f"{self.url}/health-check", timeout=10)
        assert answer.status_code == 204, answer.text

    def print_logs(self) -> None:
        """The last lines of every container's log, for the failure's report."""
        for container in self.containers():
            print(f"--- podman logs {container}\n{self.podman.logs(container)}")


@pytest.fixture
def project(podman: Podman, images, tmp_path: Path) -> Iterator[Project]:
    """The project, up; taken down with its volumes afterwards, whatever happened."""
    port = free_port()
    mail = MaildirInbox(tmp_path / "mail")
    env = {"TESSERA_IMAGE": TESSERA, "POSTGRES_IMAGE": POSTGRES, "REDIS_IMAGE": REDIS,
           "MAILSINK_IMAGE": MAILSINK, "MAIL_DIR": str(mail.folder),
           "SMTP_URL": "smtp://mail:8025", "POSTGRES_PASSWORD": secrets.token_hex(16),
           "INTERNAL_SECRET": secrets.token_urlsafe(48), "SECRET_KEY": secrets.token_urlsafe(48),
           "PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    running = Project(podman, f"tessera-ci-{RUN}", env, f"http://127.0.0.1:{port}", mail)
    try:
        running.up()
    except PodmanError:
        running.print_logs()
        running.down()
        raise
    yield running
    running.down()


@dataclass
class Traveller:
    """Who the journey made, to be found again after the restart."""

    v0_user: dict[str, str]
    phone: Authenticator
    registry_user: IotaUser
    users_api_user: dict[str, str]


def journey(platform: Project) -> Traveller:
    """One client of each family, through the published port."""
    # v0: sign-up, the mailed link, login, TOTP on, and a login that needs its code.
    user, _, phone, _, _ = with_totp(platform)
    signed_in_with_code(platform, user, phone)
    # The registry: an Iota signs a user up, and anyone finds them by name.
    registry_user = Iota(platform.url).create_user(unique("r")[:15])
    found_in_registry(platform, registry_user)
    # The users API: register, then a login's ssid.
    users_api_user = registered(platform)
    assert ssid_of(platform, users_api_user)
    # The live stream: the next sign-up arrives on it.
    with requests.get(f"{platform.url}/v0/eventstream/actions", stream=True,
                      timeout=30) as stream:
        read_until_someone_signs_up(platform, stream)
    return Traveller(user, phone, registry_user, users_api_user)


def signed_in_with_code(platform: Project, user: dict[str, str], phone: Authenticator) -> None:
    client, temp_token = password_step(platform, user)
    assert verify(platform, client, temp_token, phone.code()).status_code == 204
    me = client.get(f"{platform.url}/v0/user/me", timeout=10)
    assert me.json()["handle"] == user["handle"]


def found_in_registry(platform: Project, user: IotaUser) -> None:
    found = Iota(platform.url).uuid_of(user.username)
    assert found["data"]["user_id"] == user.user_id, found


def test_the_compose_project_serves_every_family_survives_a_restart_and_leaves_nothing(
        podman: Podman, project: Project):
    try:
        podman.say("waiting for every container's health check ...")
        project.wait_until_ready()
        podman.say("the journey through every family ...")
        before = journey(project)
        podman.say("restarting the auth container, then the journey again ...")
        [auth] = project.containers("auth")
        podman.run("restart", "--time=10", auth, timeout=60)
        project.wait_until_ready()
        # What was made before is all there: the same sign-ins work.
        signed_in_with_code(project, before.v0_user, before.phone)
        found_in_registry(project, before.registry_user)
        assert ssid_of(project, before.users_api_user)
        journey(project)
    except Exception:
        project.print_logs()
        raise

    project.down()
    assert podman.left_behind(project.name) == {"containers": [], "networks": [],
                                                "volumes": []}
