"""The HTTP API, versioned under ``/api/v1``."""

from notifier.api.blueprint import api_blueprint
from notifier.api.errors import register_error_handlers

__all__ = ['api_blueprint', 'register_error_handlers']
