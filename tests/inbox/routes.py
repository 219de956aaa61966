"""The inbox and websocket routes, registered on an app until ``notifier/api/registry.py`` lists them."""

from flask import Flask

from notifier.api.inbox import inbox_blueprint
from notifier.api.websocket import websocket_blueprint
from notifier.models import inbox as inbox_model  # noqa: F401 - the model joins the metadata

SECRET = 'test-websocket-secret'


def register_inbox_routes(flask_app: Flask) -> None:
    """``/api/v1/users/<id>/inbox`` and ``/ws`` (each once)."""
    for blueprint in (inbox_blueprint, websocket_blueprint):
        if blueprint.name not in flask_app.blueprints:
            flask_app.register_blueprint(blueprint)
