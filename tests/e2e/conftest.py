"""The real platform, started by the launcher exactly as `./tessera up` does, on free ports."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tessera_launcher import detached
from tessera_launcher.detached import DetachedPlatform
from tessera_launcher.processes import LaunchError
from tests.conftest import drop_databases, unique_database_server
from tests.mailbox import Mailbox, link_in
from tests.oauth_provider import Provider

_replicas = 1  # `--replicas`, for every platform this run launches


def pytest_configure(config: pytest.Config) -> None:
    global _replicas  # noqa: PLW0603  # one setting for the whole run, read by launch()
    _replicas = config.getoption("--replicas")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e carries the `e2e` marker (`-m "not e2e"` skips it)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@dataclass
class RunningPlatform(DetachedPlatform):
    mailbox: Mailbox | None = None  # the SMTP server its mail goes to, if the suite runs one

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.facts["redis_url"])


def launch(var_dir: Path, env: dict[str, str], *, replicas: int | None = None
           ) -> RunningPlatform:
    """The platform as `./tessera up` runs it, with `env` on top of this process's, and
    `replicas` instances of everything (by default, as many as the run asks). Most
    tests sign up from the loopback itself, and the platforms of a run may share one Redis:
    the limit of sign-ups per address is lifted unless `env` sets it (it has tests of its
    own)."""
    log = var_dir.parent / f"launcher-{secrets.token_hex(4)}.log"
    env = {"SIGN_UPS_PER_ADDRESS": "1000000", **env}
    try:
        started = detached.start(var_dir, {**os.environ, **env}, log=log,
                                  replicas=replicas or _replicas)
    except LaunchError as error:
        pytest.fail(str(error))
    return RunningPlatform(started.url, started.var_dir, started.process, started.log)


@pytest.fixture(scope="session")
def database_server() -> Iterator[str | None]:
    server = unique_database_server()
    yield server
    if server:
        drop_databases(server)


@pytest.fixture
def own_database_server() -> Iterator[str | None]:
    """Databases for a second platform: platforms must never share an outbox."""
    server = unique_database_server()
    yield server
    if server:
        drop_databases(server)


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    running = Mailbox().start()
    yield running
    running.stop()


def suite_env(database_server: str | None, mailbox: Mailbox,
              providers: tuple[Provider, ...]) -> dict[str, str]:
    """What a suite's platform runs with on top of the launcher's defaults."""
    env = {"DATABASE_URL": database_server} if database_server else {}
    env["SMTP_URL"] = mailbox.url
    for provider in providers:  # social sign-in against providers on loopback
        env.update(provider.env())
    # The tests stand behind a "proxy" on 127.0.0.1, so each can come from its own address.
    env["TRUSTED_PROXIES"] = "127.0.0.1/32"
    # The Omikron socket's keep-alive, shortened from the original's 5 s ping / 30 s limit.
    env.update(OMIKRON_PING_SECONDS="0.5", OMIKRON_IDLE_SECONDS="2")
    return env


def suite_platform(var_dir: Path, env: dict[str, str], mailbox: Mailbox,
                   providers: tuple[Provider, ...]) -> RunningPlatform:
    running = launch(var_dir, env)
    running.mailbox = mailbox
    for provider in providers:
        provider.accept_redirects_to(running.url)
    return running


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, database_server: str | None,
             mailbox: Mailbox, google: Provider, github: Provider) -> Iterator[RunningPlatform]:
    providers = (google, github)
    running = suite_platform(tmp_path_factory.mktemp("platform") / "var",
                             suite_env(database_server, mailbox, providers), mailbox, providers)
    yield running
    running.stop()


_ADDRESSES = itertools.count(1)  # counted, not drawn: random ones meet every few hundred


def visitor() -> requests.Session:
    """A client with an address of its own (so throttling of one test never meets another)."""
    session = requests.Session()
    octets = next(_ADDRESSES).to_bytes(3, "big")
    session.headers["X-Forwarded-For"] = "10.{}.{}.{}".format(*octets)
    return session


@pytest.fixture
def client() -> requests.Session:
    return visitor()


def signed_in(platform: RunningPlatform, *, verified: bool = False,
              ) -> tuple[dict[str, str], requests.Session, str]:
    """A new v0 user, a client signed in as them (from an address of its own), and their id;
    `verified`: the user opened the link in their verification mail first."""
    user = new_user()
    assert requests.post(f"{platform.url}/v0/users", json=user, timeout=10).status_code == 201
    if verified:
        verify_email(platform, user["email"])
    client = visitor()
    client.post(f"{platform.url}/v0/auth/login",
                json={"email": user["email"], "password": user["password"]}, timeout=10)
    return user, client, client.get(f"{platform.url}/v0/user/me", timeout=10).json()["id"]


def verify_email(platform: RunningPlatform, email: str) -> None:
    """Open the link of the verification mail sent to `email`, as its owner would."""
    assert platform.mailbox is not None, "this platform's mail goes to no mailbox"
    _, token = link_in(platform.mailbox.wait_for(email, "Verify your email"))
    verified = requests.post(f"{platform.url}/v0/auth/verify-email", json={"token": token},
                             timeout=10)
    assert verified.status_code == 204, verified.text


def tessera(platform: RunningPlatform, *arguments: str) -> subprocess.CompletedProcess[str]:
    """An operator's `./tessera ...` command against this platform."""
    return subprocess.run([sys.executable, "-m", "tessera_launcher", *arguments],
                          env={**os.environ, "TESSERA_VAR_DIR": str(platform.var_dir)},
                          capture_output=True, text=True, check=False)


def eventually(check: Callable[[], object], timeout: float = 20) -> None:
    """Wait until `check()` holds (something the event stream carries, or a mail)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.05)


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def new_user(**overrides: str) -> dict[str, str]:
    handle = overrides.pop("handle", unique())
    return {"email": f"{handle}@example.com", "handle": handle, "display_name": "Test User",
            "password": "correct horse battery staple", **overrides}


CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and os.environ.get("CI"):
    # In CI a skipped browser test would pass for one that ran.
    raise pytest.UsageError("CI is set but Chromium is missing: `./tessera test` installs it "
                            "as root with apt-get; see its output above.")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: `./tessera test` "
                                    "installs it as root, else apt-get install chromium")


AXE = (Path(__file__).parents[1] / "vendor" / "axe.min.js").read_text()
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


SCREENSHOTS = os.environ.get("TESSERA_SCREENSHOTS")  # a folder to keep each view's pictures in


def accessible(page: Page, shot: str | None = None) -> None:
    """axe-core finds nothing serious or critical in the view, at both widths, in light and
    dark colour schemes (it is run from the test, past the page's policy, never served).
    With TESSERA_SCREENSHOTS set, the view's pictures are kept there, named `shot` or after
    the page's title."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for name, size in WIDTHS.items():
            page.set_viewport_size(size)
            # The page is laid out and painted at the new width before anything looks at it.
            page.evaluate("""() => new Promise(done => requestAnimationFrame(
                () => requestAnimationFrame(() => done())))""")
            if SCREENSHOTS and scheme == "light":
                view = shot or re.sub(r"[^a-z0-9]+", "-", page.title().split(" · ")[0].lower())
                # A modal dialog is shown over the screen, not over the whole page.
                page.screenshot(path=Path(SCREENSHOTS) / f"{view.strip('-')}-{name}.png",
                                full_page=page.locator("dialog[open]").count() == 0)
            page.evaluate(AXE)
            found = page.evaluate("""async () => (await axe.run(document, {
                resultTypes: ["violations"]})).violations
                .filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)""")
            assert found == [], f"{scheme}, {size['width']} px: {found}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, driven by Playwright (which never downloads a browser)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own; the test fails on any script error or refused load
    (a Content-Security-Policy violation)."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Refused" in m.text else None)
    yield page
    context.close()
    assert errors == [], errors
