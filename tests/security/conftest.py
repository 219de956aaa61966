"""Fixtures of the security tests: an app with scoped tokens, and an API process serving ``/ws``."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from notifier.settings import SETTINGS_KEY, settings_of
from tests.inbox.conftest import Api, ApiProcesses
from tests.plugins.app import TOKEN

#: One token per scope, as an operator would list them in NOTIFIER_API_TOKENS.
SCOPED_TOKENS = {
    'events:write': 'events-token',
    'read': 'read-token',
    'users:write': 'users-token',
    'admin': 'admin-token',
}
#: ``TOKEN`` of the test app stays listed alone: every scope, as before scopes existed.
API_TOKENS = ', '.join([TOKEN, *('{0}:{1}'.format(token, scope) for scope, token in SCOPED_TOKENS.items())])
#: One secret for the websocket tokens and the unsubscribe links: the worst case a deployment may choose.
SHARED_SECRET = 'one-secret-for-everything'


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {'Authorization': 'Bearer {0}'.format(token)}


@pytest.fixture
def scoped_app(app: Flask) -> Flask:
    """The test app accepting the full token and one token per scope."""
    settings = settings_of(app)
    app.extensions[SETTINGS_KEY] = settings.model_copy(update={'api_tokens': API_TOKENS})
    return app


@pytest.fixture
def shared_secret_app(app: Flask) -> Flask:
    """The test app whose websocket tokens and unsubscribe links are signed with the same secret."""
    settings = settings_of(app)
    app.extensions[SETTINGS_KEY] = settings.model_copy(
        update={'websocket_secret': SHARED_SECRET, 'secret_key': SHARED_SECRET},
    )
    return app


@pytest.fixture
def api_process(shared_secret_app: Flask, tmp_path: Path) -> Iterator[Api]:
    """A real API process (``/ws`` needs a real server) on the test's database; its URLs."""
    settings = settings_of(shared_secret_app)
    processes = ApiProcesses({
        **os.environ,
        'NOTIFIER_DATABASE_URL': settings.resolved_database_url,
        'NOTIFIER_BROKER_URL': settings.broker_url,
        'NOTIFIER_API_TOKENS': TOKEN,
        'NOTIFIER_WEBSOCKET_SECRET': SHARED_SECRET,
        'NOTIFIER_SECRET_KEY': SHARED_SECRET,
        'NOTIFIER_INSTANCE_DIR': str(tmp_path),
    })
    try:
        yield processes.start()
    finally:
        processes.stop_all()
