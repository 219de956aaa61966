"""Shared fixtures: the machine's RabbitMQ and PostgreSQL (isolated per run), SMTP, the app."""

pytest_plugins = [
    'tests.plugins.services',
    'tests.plugins.smtp',
    'tests.plugins.app',
]
