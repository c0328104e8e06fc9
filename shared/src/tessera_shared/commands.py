"""Operator commands (each service's `cli.py`): the same click groups run under
`flask --app <service>` and as `./tessera admin|registry ...`."""

from __future__ import annotations

import importlib
from typing import Any

import click
from flask import Flask, has_app_context
from flask.cli import ScriptInfo


class ServiceCommand(click.Command):
    """A command that runs inside its service's app (database, Redis and clients from the
    environment), unless an app is current already (`flask --app ...`). Only a command that
    runs makes the app, so `--help` anywhere needs no configuration at all."""

    def invoke(self, ctx: click.Context) -> Any:
        if has_app_context():
            return super().invoke(ctx)
        with self._app(ctx).app_context():
            return super().invoke(ctx)

    @staticmethod
    def _app(ctx: click.Context) -> Flask:
        info = ctx.find_object(ScriptInfo)  # under app.cli (flask --app, test_cli_runner)
        if info is not None:
            return info.load_app()
        while not getattr(ctx.command, "service_package", ""):
            ctx = ctx.parent  # type: ignore[assignment]  # the root group names it
        return importlib.import_module(ctx.command.service_package).create_app()


class ServiceGroup(click.Group):
    """The root of a service's commands; its commands and groups are made alike."""

    command_class = ServiceCommand
    group_class = type  # nested groups are ServiceGroups as well (the root names the service)

    def __init__(self, *args: Any, service_package: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
        super().__init__(*args, **kwargs)
        self.service_package = service_package
