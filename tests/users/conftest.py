"""Fixtures of the user directory and preference tests: the app with their routes, a reference directory."""

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import text

from notifier.extensions import db
from notifier.settings import SETTINGS_KEY, settings_of
from tests.plugins.smtp import RecordingHandler
from tests.users.reference_server import ReferenceDirectory, serving

USERS_TABLES = ('user_segments', 'users', 'preferences', 'preference_profiles')


def register_user_routes(flask_app: Flask) -> None:
    """The preference API and the unsubscribe pages, until ``notifier/app.py`` registers them itself."""
    from notifier.api.preferences import preferences_blueprint  # noqa: WPS433
    from notifier.api.unsubscribe import unsubscribe_blueprint  # noqa: WPS433

    for blueprint in (preferences_blueprint, unsubscribe_blueprint):
        if blueprint.name not in flask_app.blueprints:
            flask_app.register_blueprint(blueprint)


@pytest.fixture
def users_app(app: Flask, database_url: str) -> Flask:
    """The test app with the user routes and empty user and preference tables."""
    register_user_routes(app)
    if not database_url.startswith('sqlite'):
        with app.app_context():
            db.session.execute(text('TRUNCATE {0} CASCADE'.format(', '.join(USERS_TABLES))))
            db.session.commit()
    return app


@pytest.fixture
def smtp_users_app(users_app: Flask, smtp_server: RecordingHandler, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """``users_app`` sending through the in-process SMTP server."""
    monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(smtp_server.port))
    return users_app


@pytest.fixture
def reference_users() -> Iterator[ReferenceDirectory]:
    """The reference user service, running."""
    with serving(ReferenceDirectory()) as directory:
        yield directory


@pytest.fixture
def http_users_app(smtp_users_app: Flask, reference_users: ReferenceDirectory) -> Flask:
    """The app whose consumers read users from the reference service over HTTP."""
    settings = settings_of(smtp_users_app)
    smtp_users_app.extensions[SETTINGS_KEY] = settings.model_copy(update={'users_url': reference_users.url})
    return smtp_users_app
