"""Shared fixtures: the machine's RabbitMQ and PostgreSQL (isolated per run), SMTP, the app."""

import os

# A `notifier run api` a test starts serves no /ws unless the test gives it a free port of its own
# (tests/inbox/conftest.py): the default port would be shared by every test and every worktree.
os.environ.setdefault('NOTIFIER_WEBSOCKET_PORT', '0')

pytest_plugins = [
    'tests.plugins.services',
    'tests.plugins.smtp',
    'tests.plugins.app',
]
