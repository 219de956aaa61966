"""Every blueprint of the HTTP side, registered in one place by the app factory."""

from flask import Flask

from notifier.api.blueprint import api_blueprint
from notifier.api.cancellation import cancellation_blueprint
from notifier.api.docs import docs_blueprint
from notifier.api.errors import register_error_handlers
from notifier.api.health import health_blueprint
from notifier.api.inbox import inbox_blueprint
from notifier.api.mailings import mailings_blueprint
from notifier.api.metrics import instrument, metrics_blueprint
from notifier.api.preferences import preferences_blueprint
from notifier.api.schedules import schedules_blueprint
from notifier.api.short_links import link_clicks_blueprint, short_links_blueprint
from notifier.api.unsubscribe import unsubscribe_blueprint

BLUEPRINTS = (
    api_blueprint,
    cancellation_blueprint,
    docs_blueprint,
    health_blueprint,
    inbox_blueprint,
    mailings_blueprint,
    metrics_blueprint,
    preferences_blueprint,
    schedules_blueprint,
    short_links_blueprint,
    link_clicks_blueprint,
    unsubscribe_blueprint,
)


def register_http(app: Flask) -> None:
    """Routes, the JSON error handlers and request metrics."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    instrument(app)
