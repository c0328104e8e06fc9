"""`python -m tessera_launcher.operate admin|registry [arguments]`: a service's operator
commands (its `cli.py`), as `./tessera admin ...` and `./tessera registry ...` run them, with
the environment of the platform running from this folder (`launch.admin`)."""

from __future__ import annotations

import importlib
import sys

import click

# The group each name runs: the service's package and the group in its cli.py.
GROUPS = {"admin": ("auth_service", "admin"), "registry": ("registry_service", "registry")}


def main(argv: list[str]) -> int:
    name, *arguments = argv
    package, group_name = GROUPS[name]
    group: click.Group = getattr(importlib.import_module(f"{package}.cli"), group_name)
    return group.main(arguments, prog_name=f"tessera {name}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
