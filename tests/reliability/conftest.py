"""Fault drills: each starts a platform of its own (the suite's shared one must not feel the
faults), breaks a part of it by PID, and checks that nothing was lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import own_database_server

__all__ = ["own_database_server"]  # a fixture these drills share with the e2e tests


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/reliability carries the `reliability` marker."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.reliability)
