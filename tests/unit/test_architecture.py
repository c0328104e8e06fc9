"""The shape every service keeps (README, "Where things go"; docs/architecture.md), checked
so that it stays one shape: who commits, where errors are declared, how a service is laid out.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from tessera_shared import errors as platform_errors
from tessera_shared import families
from tessera_shared.extensions import Extension

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"user-service": "user_service", "auth-service": "auth_service",
            "registry-service": "registry_service", "events-service": "events_service"}
SOURCES = sorted(path for path in ROOT.glob("*/src/*/**/*.py") if ".venv" not in path.parts)


def calls_of(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every call in a file: `db.session.commit` -> "commit"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            found.append((node.lineno, name))
    return found


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_only_the_unit_of_work_commits():
    allowed = {"shared/src/tessera_shared/transactions.py"}
    commits = [f"{relative(path)}:{line}" for path in SOURCES if relative(path) not in allowed
               for line, name in calls_of(path) if name == "commit"]
    assert commits == [], "commit through tessera_shared.transactions.unit_of_work"


def test_errors_are_declared_in_a_registry_not_built_where_they_are_raised():
    allowed = {
        "shared/src/tessera_shared/errors.py",
        # A peer's refusal, rebuilt as it was sent; a family's own restatement of an error.
        "shared/src/tessera_shared/clients/profiles.py",
        "shared/src/tessera_shared/families.py",
    }
    built = [f"{relative(path)}:{line}" for path in SOURCES
             if relative(path) not in allowed and path.name != "errors.py"
             for line, name in calls_of(path) if name == "DomainError"]
    assert built == [], "declare an ErrorId in the service's errors.py and raise it"


def declared_codes() -> set[str]:
    registries = [platform_errors] + [importlib.import_module(f"{package}.errors")
                                      for package in SERVICES.values()]
    return {error.code for registry in registries
            for error in platform_errors.declared(registry).values()}


def test_every_code_a_family_maps_is_declared_somewhere():
    """A renamed id must not fall through to a family's generic answer unnoticed."""
    mapped = (set(families.USERS_API_ERRORS) | set(families.USER_API_ERRORS)
              | set(families.REGISTRY_MESSAGES))
    assert mapped - declared_codes() == set()


def test_the_omikron_protocol_types_only_declared_codes():
    from registry_service.api.omikron import handlers  # noqa: PLC0415

    assert set(handlers.TYPED) - declared_codes() == set()


@pytest.mark.parametrize("folder", sorted(SERVICES))
def test_every_service_has_the_same_layout(folder: str):
    package = ROOT / folder / "src" / SERVICES[folder]
    for required in ("__init__.py", "models.py", "errors.py", "consumers.py",
                     "api/__init__.py", "migrations/env.py"):
        assert (package / required).is_file(), f"{folder} has no {required}"
    if (package / "extensions.py").exists():  # where create_app binds helpers for the views
        bound = vars(importlib.import_module(f"{SERVICES[folder]}.extensions")).values()
        assert any(isinstance(value, type) and issubclass(value, Extension)
                   and value is not Extension for value in bound)
    families_served = [path.parent.name for path in (package / "api").glob("*/__init__.py")]
    assert families_served, f"{folder} serves no API family (api/<family>/)"
    consumers = importlib.import_module(f"{SERVICES[folder]}.consumers")
    assert callable(consumers.handlers)
    if (package / "cli.py").exists():
        assert callable(importlib.import_module(f"{SERVICES[folder]}.cli").init_app)
    leftovers = {"v0", "rest", "omega", "users_api", "events.py", "admin.py"} & {
        path.name for path in package.iterdir()}
    assert leftovers == set(), f"{folder} keeps the old layout: {leftovers}"


def test_app_extensions_are_reached_through_typed_accessors():
    pattern = re.compile(r"current_app\.extensions\[")
    allowed = {"extensions.py"}
    raw = [f"{relative(path)}:{number}" for path in SOURCES if path.name not in allowed
           for number, line in enumerate(path.read_text().splitlines(), 1)
           if pattern.search(line)]
    assert raw == []


def test_service_clients_never_touch_a_database_session():
    for path in (ROOT / "shared/src/tessera_shared/clients").glob("*.py"):
        assert "sqlalchemy" not in path.read_text(), relative(path)


def test_no_file_is_found_by_counting_parent_folders():
    counted = [f"{relative(path)}:{number}" for path in SOURCES
               for number, line in enumerate(path.read_text().splitlines(), 1)
               if re.search(r"\.parents\[\d\]", line)]
    assert counted == []


def test_the_distribution_lists_every_package():
    """A package missing from pyproject.toml would be absent from a non-editable install."""
    import tomllib  # noqa: PLC0415

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    folders = [path.parent.relative_to(ROOT).parts for path in ROOT.glob("*/src/**/__init__.py")]
    on_disk = {".".join(parts[parts.index("src") + 1:]) for parts in folders}
    assert listed == on_disk
