"""The break-in suite: every test tries an attack on a platform of its own (the suite's other
tests must never feel a flood or a throttled address) and names the OWASP ASVS 4.0.3
requirements it checks with `@pytest.mark.asvs("V2.2.1", ...)`; docs/SECURITY.md lists them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera_launcher.launch import load_secrets, service_specs
from tessera_launcher.processes import free_port, spawn, wait_until_ready
from tessera_shared.config import SERVICES, service_url_variable
from tests.e2e.conftest import RunningPlatform, database_server, mailbox, suite_env, suite_platform
from tests.mailbox import Mailbox
from tests.oauth_provider import Provider

# Imported, these fixtures are this folder's own instances: its own databases and mail server.
__all__ = ["database_server", "mailbox"]

REQUIREMENT = re.compile(r"V(1[0-4]|[1-9])\.\d+\.\d+")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything here carries the `security` marker, and names what it checks."""
    here = Path(__file__).parent
    for item in items:
        if here not in Path(item.fspath).parents:
            continue
        item.add_marker(pytest.mark.security)
        named = [name for marker in item.iter_markers("asvs") for name in marker.args]
        if not named or not all(REQUIREMENT.fullmatch(name) for name in named):
            raise pytest.UsageError(f"{item.nodeid} must name the ASVS 4.0.3 requirements it "
                                    f"checks, as @pytest.mark.asvs(\"V2.2.1\"); it names {named}")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory, database_server: str | None,
             mailbox: Mailbox, google: Provider, github: Provider) -> Iterator[RunningPlatform]:
    providers = (google, github)
    # A Redis of its own too: on a shared one its events-service would join the suite
    # platform's consumer group, and its throttling would meet the other's.
    env = {**suite_env(database_server, mailbox, providers), "REDIS_URL": ""}
    running = suite_platform(tmp_path_factory.mktemp("attacked") / "var", env, mailbox,
                             providers)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def gateways(platform: RunningPlatform, database_server: str | None,
             mailbox: Mailbox, google: Provider, github: Provider) -> Iterator[tuple[str, str]]:
    """The platform's gateway, and a second gateway process in front of the same services (as
    replicas would stand): whatever one refuses, the other must refuse too."""
    facts = platform.facts
    env = {**os.environ, **suite_env(database_server, mailbox, (google, github)),
           **load_secrets(platform.var_dir, {}), "TESSERA_VAR_DIR": str(platform.var_dir),
           "PUBLIC_URL": facts["public_url"], "REDIS_URL": facts["redis_url"],
           **{service_url_variable(name): facts[f"{name}_url"] for name in SERVICES}}
    port = free_port()
    spec = next(spec for spec in service_specs(env) if spec.name == "gateway")
    second = spawn("second-gateway", spec.argv(f"127.0.0.1:{port}"), env,
                   platform.var_dir.parent)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(second, f"{url}/health-check", expect=(204,))
        yield platform.url, url
    finally:
        second.stop()
