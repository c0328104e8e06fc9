"""The registry WebSocket family (document 001): the Omikron protocol at `/ws/omikron`."""

from registry_service.api.omikron.views import init_app

__all__ = ["init_app"]
