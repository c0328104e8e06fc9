"""How an app keeps what `create_app` bound once (use cases, stores, clients): one frozen
dataclass per service, stored in `app.extensions` under the service's name and read back by
the typed accessors of its `extensions.py`; views never index `app.extensions` themselves."""

from __future__ import annotations

from typing import ClassVar, Self

from flask import Flask, current_app


class Extension:
    key: ClassVar[str]

    def init_app(self, app: Flask) -> None:
        app.extensions[self.key] = self

    @classmethod
    def of(cls, app: Flask) -> Self:
        return app.extensions[cls.key]

    @classmethod
    def current(cls) -> Self:
        """The current app's."""
        return cls.of(current_app)  # type: ignore[arg-type]  # the proxy stands for an app
