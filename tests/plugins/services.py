"""Real services, isolated per test run: a RabbitMQ vhost and a PostgreSQL database of our own.

A service that is not running fails the run with the command that starts it.
"""

import os
import shlex
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get('NOTIFIER_TEST_DATABASE_URL', 'postgresql+psycopg://postgres@127.0.0.1:5432/postgres')
RABBIT_HOST = os.environ.get('NOTIFIER_TEST_RABBITMQ_HOST', '127.0.0.1')
RABBITMQCTL = shlex.split(os.environ.get('NOTIFIER_TEST_RABBITMQCTL', 'rabbitmqctl'))

HOW_TO_START = {
    'RabbitMQ': 'rabbitmq-server -detached',
    'PostgreSQL': 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Fail with the command that starts the service when it is down."""
    if not _reachable(host, port):
        pytest.fail('{0} is not running on {1}:{2}; start it with: {3}'.format(
            name, host, port, HOW_TO_START[name],
        ), pytrace=False)


def _rabbitmqctl(*arguments: str) -> None:
    subprocess.run([*RABBITMQCTL, *arguments], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope='session')
def broker_url() -> Iterator[str]:
    """An AMQP URL to a vhost of this test run, deleted at the end."""
    require_service('RabbitMQ', RABBIT_HOST, 5672)
    with own_vhost() as url:
        yield url


def _libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace('postgresql+psycopg://', 'postgresql://')


@pytest.fixture(scope='session')
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database of this test run, dropped at the end."""
    require_service('PostgreSQL', '127.0.0.1', 5432)
    with own_database() as url:
        yield url


@contextmanager
def own_vhost() -> Iterator[str]:
    """A broker URL to a vhost of its own (for tests that run the service as processes)."""
    vhost = 'notifier-test-{0}'.format(uuid.uuid4().hex[:8])
    _rabbitmqctl('add_vhost', vhost)
    try:
        _rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')
        yield 'amqp://guest:guest@{0}:5672/{1}'.format(RABBIT_HOST, quote(vhost, safe=''))
    finally:
        _rabbitmqctl('delete_vhost', vhost)


@contextmanager
def own_database() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped at the end."""
    name = 'notifier_test_{0}'.format(uuid.uuid4().hex[:8])
    admin = _libpq_url(PG_ADMIN_URL)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute('CREATE DATABASE {0}'.format(name))
    try:
        yield '{0}/{1}'.format(PG_ADMIN_URL.rsplit('/', 1)[0], name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute('DROP DATABASE IF EXISTS {0} WITH (FORCE)'.format(name))
