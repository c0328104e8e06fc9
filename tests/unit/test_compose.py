"""docker-compose.yml against the Compose schema, and what the schema cannot check
(references, commands, health-gated start order, images, the published port), in
milliseconds; tests/containers runs it under Podman."""

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


def test_every_image_can_be_chosen_and_defaults_to_the_official_one():
    services = COMPOSE["services"]
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:16-alpine}"
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-alpine}"
    assert {services[name]["image"] for name in TESSERA} == {"${TESSERA_IMAGE:-tessera:latest}"}


def test_only_the_gateway_is_published_and_on_the_loopback_unless_told_otherwise():
    published = {name: service["ports"] for name, service in COMPOSE["services"].items()
                 if "ports" in service}
    assert published == {"gateway": ["${BIND_ADDRESS:-127.0.0.1}:${PORT:-8080}:8000"]}


@pytest.mark.parametrize("name", TESSERA)
def test_each_process_is_checked_by_the_images_own_health_command(name):
    assert COMPOSE["services"][name]["healthcheck"]["test"] == ["CMD", "tessera", "healthcheck"]
