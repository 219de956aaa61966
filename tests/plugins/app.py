"""The app under test on SQLite or PostgreSQL, consumers in a thread, and helpers to wait."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pika
import pytest
from flask import Flask
from sqlalchemy import text

from notifier.app import create_app
from notifier.extensions import db
from notifier.pipeline import topology
from notifier.pipeline.consumer import ConsumerProcess
from notifier.pipeline.stages import STAGES
from notifier.settings import Settings
from tests.plugins.smtp import RecordingHandler

TOKEN = 'test-token'
AUTH = {'Authorization': 'Bearer {0}'.format(TOKEN)}
ALL_STAGES = tuple(STAGES)
TABLES = (
    'deliveries', 'outbox', 'notifications', 'templates', 'occurrences', 'schedules', 'users', 'user_segments',
    'preferences', 'preference_profiles', 'mailings', 'rate_limits', 'short_links', 'link_clicks',
    'inbox_items', 'admin_accounts', 'breaker_states', 'rate_buckets',
)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, what: str = 'condition') -> Any:
    """Poll until ``predicate`` returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail('timed out after {0}s waiting for {1}'.format(timeout, what))


def make_settings(database_url: str, broker_url: str, instance_dir: Path, **overrides: Any) -> Settings:
    """Settings of a test app: fast retries, our token, our vhost."""
    settings_values: dict[str, Any] = {
        'database_url': database_url,
        'broker_url': broker_url,
        'instance_dir': instance_dir,
        'api_tokens': TOKEN,
        'retry_delays': '1s,2s',
        'sending_lease': 2,
        'usual_slot': '1s',
        'relay_interval': 0.2,
    }
    settings_values.update(overrides)
    return Settings(**settings_values)


@pytest.fixture(scope='session')
def migrated_postgres(postgres_url: str, broker_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The run's PostgreSQL database, migrated once."""
    app = create_app(make_settings(postgres_url, broker_url, tmp_path_factory.mktemp('pg')))
    with app.app_context():
        flask_migrate.upgrade(revision='heads')
    return postgres_url


@pytest.fixture(params=['sqlite', 'postgresql'])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each pipeline test runs on the embedded SQLite and on PostgreSQL."""
    if request.param == 'sqlite':
        return 'sqlite:///{0}'.format(tmp_path / 'notifier.db')
    return str(request.getfixturevalue('migrated_postgres'))


def _purge_queues(broker_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    channel = connection.channel()
    for spec in topology.all_queues(['email', 'push', 'sms', 'websocket'], 5, [1, 2]):
        channel = _purge(connection, channel, spec.name)
    connection.close()


def _purge(connection: pika.BlockingConnection, channel: Any, queue: str) -> Any:
    try:
        channel.queue_purge(queue)
    except pika.exceptions.ChannelClosedByBroker:
        return connection.channel()  # the queue does not exist yet: the channel was closed
    return channel


@pytest.fixture
def app(
    database_url: str, broker_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    """A migrated, empty app whose email channel sends to ``instance/outbox`` by default."""
    monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'file://{0}'.format(tmp_path / 'outbox'))
    flask_app = create_app(make_settings(database_url, broker_url, tmp_path))
    flask_app.config['TESTING'] = True
    with flask_app.app_context():
        if database_url.startswith('sqlite'):
            flask_migrate.upgrade(revision='heads')
        else:
            db.session.execute(text('TRUNCATE {0} CASCADE'.format(', '.join(TABLES))))
            db.session.commit()
    _purge_queues(broker_url)
    yield flask_app
    with flask_app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def running_consumers(flask_app: Flask, stages: tuple[str, ...] = ALL_STAGES) -> Iterator[ConsumerProcess]:
    """A ``consume`` process's stages in a thread, stopped at the end."""
    process = ConsumerProcess(flask_app, stages)
    thread = threading.Thread(target=process.run, daemon=True)
    thread.start()
    assert process.consuming.wait(timeout=20), 'consumers did not start'
    try:
        yield process
    finally:
        process.stop()
        thread.join(timeout=20)
    assert not thread.is_alive(), 'consumers did not stop'


@pytest.fixture
def smtp_app(app: Flask, smtp_server: RecordingHandler, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The app with its email channel pointed at the in-process SMTP server."""
    monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(smtp_server.port))
    return app
