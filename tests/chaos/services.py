"""The real RabbitMQ and PostgreSQL of this machine: a vhost and a database per scenario, and their faults."""

import logging
import os
import shlex
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pika
import psycopg

logger = logging.getLogger(__name__)

PG_ADMIN = os.environ.get('NOTIFIER_CHAOS_PG_ADMIN', 'postgresql://postgres@127.0.0.1:5432/postgres')
RABBITMQCTL = shlex.split(os.environ.get('NOTIFIER_TEST_RABBITMQCTL', 'rabbitmqctl'))
CTL_TIMEOUT = 120
HEALTH_TIMEOUT = 120


def rabbitmqctl(*arguments: str) -> str:
    """Run rabbitmqctl and return its output; a failure raises with what it said."""
    completed = subprocess.run(
        [*RABBITMQCTL, *arguments], capture_output=True, text=True, timeout=CTL_TIMEOUT, check=False,
    )
    if completed.returncode:
        raise RuntimeError('rabbitmqctl {0} failed: {1}{2}'.format(
            ' '.join(arguments), completed.stdout, completed.stderr,
        ))
    return completed.stdout


def broker_healthy() -> bool:
    """Whether the broker's app runs and accepts AMQP connections."""
    try:
        rabbitmqctl('await_startup', '--timeout', '5')
        rabbitmqctl('list_vhosts', '--quiet')
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return True


def wait_broker_healthy(timeout: float = HEALTH_TIMEOUT) -> None:
    """Block until RabbitMQ is back, starting its app again if it is stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if broker_healthy():
            return
        try:
            rabbitmqctl('start_app')
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            logger.warning('start_app failed: %s', error)
        time.sleep(1)
    raise RuntimeError('RabbitMQ did not become healthy in {0}s'.format(timeout))


@contextmanager
def broker_stopped() -> Iterator[None]:
    """RabbitMQ's app stopped for the block (every vhost!), always started again and checked healthy."""
    rabbitmqctl('stop_app')
    try:
        yield
    finally:
        rabbitmqctl('start_app')
        wait_broker_healthy()


@dataclass(frozen=True)
class Isolated:
    """The vhost and database of one scenario."""

    vhost: str
    database: str

    @property
    def broker_url(self) -> str:
        return 'amqp://guest:guest@127.0.0.1:5672/{0}'.format(quote(self.vhost, safe=''))

    @property
    def database_url(self) -> str:
        return 'postgresql+psycopg://postgres@127.0.0.1:5432/{0}'.format(self.database)

    @property
    def libpq_url(self) -> str:
        return 'postgresql://postgres@127.0.0.1:5432/{0}'.format(self.database)

    def queue_depths(self) -> dict[str, int]:
        """Messages (ready + unacked) per queue of the vhost."""
        return self._listed('messages')

    def ready_messages(self, queue: str) -> int:
        """Messages ready in one queue, asked over AMQP (``queue.declare`` passive): exact at once.

        ``rabbitmqctl list_queues`` reads a quorum queue's count from statistics emitted every few
        seconds; right after messages arrive it can still say 0 (the poison scenario counted 0 parked).
        """
        connection = pika.BlockingConnection(pika.URLParameters(self.broker_url))
        try:
            declared = connection.channel().queue_declare(queue, passive=True)
        finally:
            connection.close()
        return int(declared.method.message_count or 0)

    def consumer_counts(self) -> dict[str, int]:
        """Consumers per queue of the vhost."""
        return self._listed('consumers')

    def terminate_connections(self) -> int:
        """``pg_terminate_backend`` every connection of the scenario's database; how many."""
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            rows = connection.execute(
                'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()',
                (self.database,),
            ).fetchall()
        return len(rows)

    def query(self, sql: str, bound: Mapping[str, object] | None = None) -> list[tuple[object, ...]]:
        """Rows of one read-only query on the scenario's database."""
        with psycopg.connect(self.libpq_url, autocommit=True) as connection:
            return connection.execute(sql, bound).fetchall()  # type: ignore[arg-type]

    def _listed(self, column: str) -> dict[str, int]:
        listed = rabbitmqctl('list_queues', '-p', self.vhost, '--quiet', '--no-table-headers', 'name', column)
        counts = {}
        for line in listed.splitlines():
            name, _, count = line.rpartition('\t')
            if name:
                counts[name] = int(count)
        return counts


def _migrate(isolated: Isolated, venv_bin: str, cwd: str) -> None:
    env = {
        **os.environ,
        'NOTIFIER_DATABASE_URL': isolated.database_url,
        'NOTIFIER_BROKER_URL': isolated.broker_url,
    }
    completed = subprocess.run(
        [os.path.join(venv_bin, 'notifier'), 'db', 'upgrade', 'heads'],  # feature branches may add heads
        env=env, cwd=cwd, capture_output=True, text=True, timeout=CTL_TIMEOUT, check=False,
    )
    if completed.returncode:
        raise RuntimeError('notifier db upgrade failed: {0}{1}'.format(completed.stdout, completed.stderr))


def _names(name: str) -> Isolated:
    suffix = uuid.uuid4().hex[:8]
    return Isolated(
        vhost='notifier-chaos-{0}-{1}'.format(name, suffix),
        database='chaos_{0}_{1}'.format(name.replace('-', '_'), suffix),
    )


def _admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(statement)  # type: ignore[arg-type]


@contextmanager
def _database(isolated: Isolated) -> Iterator[None]:
    _admin('CREATE DATABASE {0}'.format(isolated.database))
    try:
        yield
    finally:
        _admin('DROP DATABASE IF EXISTS {0} WITH (FORCE)'.format(isolated.database))


@contextmanager
def _vhost(isolated: Isolated) -> Iterator[None]:
    wait_broker_healthy()
    rabbitmqctl('add_vhost', isolated.vhost)
    try:
        rabbitmqctl('set_permissions', '-p', isolated.vhost, 'guest', '.*', '.*', '.*')
        yield
    finally:
        wait_broker_healthy()
        rabbitmqctl('delete_vhost', isolated.vhost)


@contextmanager
def migrated_database(isolated: Isolated, venv_bin: str, cwd: str) -> Iterator[None]:
    """The scenario's database, created and migrated, dropped at the end (the broker is the caller's)."""
    with _database(isolated):
        _migrate(isolated, venv_bin, cwd)
        yield


@contextmanager
def isolated_services(name: str, venv_bin: str, cwd: str) -> Iterator[Isolated]:
    """A fresh vhost and a fresh migrated database, both deleted at the end."""
    isolated = _names(name)
    with _vhost(isolated), _database(isolated):
        _migrate(isolated, venv_bin, cwd)
        yield isolated
