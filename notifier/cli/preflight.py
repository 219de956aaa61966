"""Checks every mode makes before it starts, each failing with one clear line."""

import time

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy.exc import OperationalError

from notifier.settings import settings_of
from notifier.errors import StartupError
from notifier.extensions import db, migrate
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import redact_url

#: A connection terminated by the server (a failover, an operator) is tried this often, this far apart.
DATABASE_ATTEMPTS = 3
DATABASE_RETRY_SECONDS = 0.5


def _unreachable(url: str, error: OperationalError) -> StartupError:
    return StartupError('cannot reach the database at {0}: {1}'.format(
        url, str(error.orig).strip().splitlines()[0],
    ))


def _heads_once() -> set[str]:
    with db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def _current_heads(url: str) -> set[str]:
    """The database's migration heads; a connection the server terminated meanwhile is tried again."""
    failure: OperationalError | None = None
    for _ in range(DATABASE_ATTEMPTS):
        try:
            return _heads_once()
        except OperationalError as error:
            failure = error
        if not failure.connection_invalidated:
            break  # refused, wrong credentials, no such database: say so now
        time.sleep(DATABASE_RETRY_SECONDS)
    assert failure is not None  # noqa: S101 - the loop returns or records a failure
    raise _unreachable(url, failure)


def check_database(app: Flask) -> None:
    """The database answers and is migrated to the newest revision."""
    url = redact_url(settings_of(app).resolved_database_url)
    with app.app_context():
        current = _current_heads(url)
        config = migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if current != heads:
        raise StartupError(
            'the database at {0} is at revision {1}, the code needs {2}: run `notifier db upgrade`'.format(
                url, ', '.join(sorted(current)) or 'none', ', '.join(sorted(heads)),
            ),
        )


def check_broker(app: Flask) -> None:
    """RabbitMQ accepts a connection."""
    broker = BrokerConnection(settings_of(app).broker_url, 'notifier preflight')
    broker.open()
    broker.close()


def preflight(app: Flask) -> None:
    """Every check a mode needs before it starts."""
    check_database(app)
    check_broker(app)
