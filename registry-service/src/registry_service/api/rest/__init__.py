"""The registry REST family (document 000)."""

from registry_service.api.rest.views import any_method_reads, blp, paths

__all__ = ["any_method_reads", "blp", "paths"]
