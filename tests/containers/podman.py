"""Podman as the container test drives it: images built from a Debian base this machine makes
itself (no registry is reachable), compose projects, health checks run on demand, and every
command bounded in time.

This kind of machine has three quirks (docs/deploy.md#containers-in-ci): crun cannot start
containers here, so `containers.conf` beside this file picks runc and cgroupfs and drops the
default ulimits; `FROM python:...` cannot be pulled, so the base is made with debootstrap;
pip inside a build cannot verify TLS to the index, so wheels are fetched beforehand.
Podman 4.3 runs health checks only from systemd timers, which a machine without systemd has
not, so the test runs them itself (`podman healthcheck run`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tessera_launcher.cli import TEST_PACKAGES, lacking

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SUITE = "bookworm"  # its python3 is 3.11
# The certificate bundle this machine trusts (pip is told of it here, see `pip config list`).
CERTIFICATES = Path(os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt")
# What a base image needs none of: package caches and lists (images that install packages
# fetch the lists again), documentation, translations.
PRUNED = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
          "usr/share/locale", "usr/share/info")


class PodmanError(AssertionError):
    """A podman command that failed, with what it printed."""


# What `./tessera test` installs for this test, and the commands that show it is there.
TOOLS, PACKAGES = TEST_PACKAGES["the container test"]


def missing_tools() -> list[str]:
    return lacking(TOOLS)


def copy_of_checkout(into: Path) -> Path:
    """What a build of the checkout reads (all but what `.dockerignore` names), with an
    empty `wheels/`: the test's wheels never land in the checkout, nor its own in the test."""
    ignored = [line.strip().removeprefix("**/")
               for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    shutil.copytree(ROOT, into, ignore=shutil.ignore_patterns(*ignored, "wheels"))
    (into / "wheels").mkdir()
    return into


@dataclass
class Podman:
    """`podman` and `podman-compose` with this machine's configuration; `say` reports what
    takes long."""

    say: Callable[[str], None] = print
    env: dict[str, str] = field(default_factory=lambda: {
        **os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf")})

    def run(self, *args: str, timeout: float = 120, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        return self._run(["podman", *args], timeout=timeout, check=check)

    def compose(self, *args: str, env: dict[str, str], timeout: float = 300
                ) -> subprocess.CompletedProcess[str]:
        command = [str(Path(sys.executable).with_name("podman-compose")), *args]
        return self._run(command, timeout=timeout, env={**self.env, **env})

    def _run(self, command: list[str], *, timeout: float, check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(command, cwd=ROOT, env=env or self.env, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as late:
            raise PodmanError(f"{' '.join(command[:4])} ... took over {timeout:.0f} s") from late
        if check and done.returncode != 0:
            raise PodmanError(f"{' '.join(command[:4])} ... failed ({done.returncode}):\n"
                               f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
        return done

    # Images.

    def import_debian_base(self, tag: str, work: Path) -> None:
        """A minimal Debian with Python 3 and venv, as `tag` (about 45 s)."""
        rootfs = work / "rootfs"
        self.say(f"debootstrap: a minimal Debian {SUITE} with Python 3 (about 45 s) ...")
        self._run(["debootstrap", "--variant=minbase",
                   "--include=python3,python3-venv,ca-certificates", SUITE, str(rootfs)],
                  timeout=600)
        for pruned in PRUNED:
            shutil.rmtree(rootfs / pruned, ignore_errors=True)
        archive = work / "rootfs.tar"
        self._run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], timeout=300)
        shutil.rmtree(rootfs)
        self.run("import", str(archive), tag, timeout=300)
        archive.unlink()

    def fetch_wheels(self, image: str, context: Path, *requirements: str) -> None:
        """Wheels of `requirements` (pip's arguments, paths relative to `context`) into
        `context`/wheels, fetched by `image`'s own pip, so they fit its Python and C library
        and its environment markers hold (redis needs async-timeout below Python 3.11.3).
        It runs outside any build, with this machine's certificate bundle, which pip inside
        a build has not."""
        self.say(f"pip download, in a container of the base, into {context.name}/wheels ...")
        (context / "wheels").mkdir(exist_ok=True)
        mounts = [f"--volume={context}:/context", "--workdir=/context"]
        if CERTIFICATES.is_file():
            mounts += [f"--volume={CERTIFICATES}:/etc/ssl/host-ca.pem:ro",
                       "--env=PIP_CERT=/etc/ssl/host-ca.pem"]
        self.run("run", "--rm", *mounts, image, "sh", "-c",
                 'python3 -m venv /tmp/pip && /tmp/pip/bin/pip download --quiet '
                 '--disable-pip-version-check --only-binary=:all: --dest wheels "$@"',
                 "fetch", *requirements, timeout=600)

    def build(self, tag: str, context: Path, *, base: str,
              args: dict[str, str] | None = None) -> None:
        self.say(f"podman build: {tag} ...")
        build_args = [f"--build-arg={key}={value}"
                      for key, value in {"BASE_IMAGE": base, **(args or {})}.items()]
        # The docker format keeps HEALTHCHECK, which the OCI format has no place for; with
        # no layers kept, a first stage leaves no unnamed image behind.
        self.run("build", "--format=docker", "--layers=false", "--quiet", f"--tag={tag}",
                 *build_args, str(context), timeout=900)

    def size_of(self, image: str) -> int:
        return int(json.loads(self.run("image", "inspect", image).stdout)[0]["Size"])

    def compressed_size_of(self, image: str) -> int:
        """About what a registry stores and a pull fetches: the image's layers, gzipped
        (bounded by the test's own time limit)."""
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip format
        size = 0
        with subprocess.Popen(["podman", "save", image], env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as saving:
            assert saving.stdout is not None
            while chunk := saving.stdout.read(1 << 20):
                size += len(packer.compress(chunk))
        if saving.returncode != 0:
            raise PodmanError(f"podman save {image} failed ({saving.returncode})")
        return size + len(packer.flush())

    def remove_images(self, *tags: str) -> None:
        self.run("rmi", "--force", "--ignore", *tags, timeout=120)
        left = [tag for tag in tags
                if self.run("image", "exists", tag, check=False).returncode == 0]
        if left:
            raise PodmanError(f"images left behind: {', '.join(left)}")

    # Containers of one compose project.

    def containers(self, project: str, service: str | None = None) -> list[str]:
        """The containers of `project` (of its `service` only, if named)."""
        labels = [f"--filter=label=io.podman.compose.project={project}"]
        if service:
            labels.append(f"--filter=label=io.podman.compose.service={service}")
        return self.run("ps", "--all", *labels, "--format={{.Names}}").stdout.split()

    def left_behind(self, project: str) -> dict[str, list[str]]:
        """The containers, networks and volumes of `project` that still exist."""
        label = f"--filter=label=io.podman.compose.project={project}"
        return {"containers": self.containers(project),
                "networks": self.run("network", "ls", label, "--format={{.Name}}").stdout.split(),
                "volumes": self.run("volume", "ls", label, "--format={{.Name}}").stdout.split()}

    def healthy(self, container: str) -> bool:
        """Runs the container's health check now; True if it passed."""
        return self.run("healthcheck", "run", container, check=False, timeout=30).returncode == 0

    def has_healthcheck(self, container: str) -> bool:
        config = json.loads(self.run("inspect", container).stdout)[0]["Config"]
        return bool(config.get("Healthcheck"))

    def wait_until_healthy(self, containers: list[str], *, timeout: float) -> None:
        """Run each container's health check until every one has passed once."""
        waiting = list(containers)
        deadline = time.monotonic() + timeout
        while waiting:
            waiting = [name for name in waiting if not self.healthy(name)]
            if waiting and time.monotonic() > deadline:
                raise PodmanError(f"not healthy after {timeout:.0f} s: {', '.join(waiting)}")
            time.sleep(1)

    def logs(self, container: str, lines: int = 80) -> str:
        done = self.run("logs", f"--tail={lines}", container, check=False)
        return done.stdout + done.stderr
