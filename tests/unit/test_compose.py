"""docker-compose.yml: no Docker engine runs here, so check it against the Compose schema and
check what the schema cannot (references, commands, health-gated start order)."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tessera_launcher.launch import service_specs
from tessera_shared.config import SERVICES, service_url_variable

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
TESSERA = [spec.name for spec in service_specs({})]


def test_the_file_is_valid_against_the_compose_specification():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(ROOT / "docker-compose.yml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_process_of_the_platform_runs_from_the_one_image():
    services = COMPOSE["services"]
    assert set(TESSERA) <= set(services)
    for name in TESSERA:
        assert services[name]["build"] == "."
        assert services[name]["command"] == [name]
    assert (ROOT / "Dockerfile").exists()


@pytest.mark.parametrize("name", TESSERA)
def test_each_process_waits_for_what_it_needs_to_be_healthy(name):
    service = COMPOSE["services"][name]
    assert "healthcheck" in service
    wanted = {"postgres", "redis"} | (set(SERVICES) if name == "gateway" else set())
    assert set(service["depends_on"]) == wanted
    for dependency, rule in service["depends_on"].items():
        assert dependency in COMPOSE["services"]
        assert rule == {"condition": "service_healthy"}


@pytest.mark.parametrize("name", TESSERA)
def test_each_process_is_configured_by_the_design_contract(name):
    environment = COMPOSE["services"][name]["environment"]
    for variable in ("DATABASE_URL", "REDIS_URL", "INTERNAL_SECRET", "SECRET_KEY",
                     "PUBLIC_URL", *(service_url_variable(s) for s in SERVICES)):
        assert variable in environment
