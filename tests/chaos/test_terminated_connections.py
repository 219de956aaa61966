"""A PostgreSQL connection terminated under a consumer, the relay or the scheduler: they keep running.

The deterministic companion of chaos scenario 3 (``pg_terminate_backend`` every
0.7 s, where consumer processes used to exit on their own). Here the backend of
the very connection a stage, the outbox relay or a scheduler pass is using is
terminated (``pg_terminate_backend``) at the moments that used to kill the
process: while the session still has a transaction open when the application
context ends (its teardown rolled back on the dead connection and raised out
of the pika callback), and before the stage's own queries (the retry path).
"""

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from notifier import idle_ping
from notifier.extensions import db
from notifier.pipeline import batching as batching_module
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerUnavailableError
from notifier.pipeline import relay as relay_module
from notifier.pipeline.consumer import ConsumerProcess
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Forward, Outcome
from notifier.pipeline.relay import Relay
from notifier.pipeline.stage_calls import BatchStage
from notifier.pipeline.stages import STAGES
from notifier.scheduler import loop as loop_module
from notifier.scheduler.loop import SchedulerLoop
from notifier.settings import settings_of
from tests.integration import queries
from tests.plugins.app import wait_for
from tests.plugins.services import PG_ADMIN_URL
from tests.plugins.smtp import RecordingHandler

pytestmark = pytest.mark.integration

ADDRESSES = ('t0@example.com', 't1@example.com', 't2@example.com')
#: pg_terminate_backend waits this long (ms) for the backend to be gone.
TERMINATE_WAIT_MS = 5000


@pytest.fixture
def database_url(migrated_postgres: str) -> str:
    """PostgreSQL only: ``pg_terminate_backend`` is the fault under test."""
    return migrated_postgres


def terminate_backend_of(session: Session) -> int:
    """``pg_terminate_backend`` the connection ``session`` uses, leaving its transaction open; its pid."""
    pid = int(session.execute(text('SELECT pg_backend_pid()')).scalar_one())
    admin_url = PG_ADMIN_URL.replace('postgresql+psycopg://', 'postgresql://')
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute('SELECT pg_terminate_backend(%s, %s)', (pid, TERMINATE_WAIT_MS))
    return pid


def _terminating_forward(forward: Iterable[Forward], session: Session, terminated: list[int]) -> Iterator[Forward]:
    yield from forward
    terminated.append(terminate_backend_of(session))  # the stage's work committed, nothing published nor acked


class TerminatingStage:
    """A batch stage whose connection is terminated before its first attempt and after each later one."""

    def __init__(self, stage: BatchStage) -> None:
        self._stage = stage
        #: Backend pids terminated under this stage.
        self.terminated: list[int] = []

    def __call__(self, bodies: Sequence[Mapping[str, Any]], context: StageContext) -> list[Outcome]:
        if context.attempt == 1:
            self.terminated.append(terminate_backend_of(context.session))  # the stage's queries fail: retry
            return self._stage(bodies, context)
        outcomes = self._stage(bodies, context)
        if all(isinstance(outcome, Done) for outcome in outcomes):
            return [
                replace(outcome, forward=_terminating_forward(outcome.forward, context.session, self.terminated))
                if isinstance(outcome, Done) else outcome
                for outcome in outcomes
            ]
        self.terminated.append(terminate_backend_of(context.session))
        return outcomes


@contextmanager
def consumer_thread(app: Flask) -> Iterator[tuple[ConsumerProcess, threading.Thread]]:
    """All stages in one thread, as ``running_consumers`` but handing out the thread."""
    process = ConsumerProcess(app, tuple(STAGES))
    thread = threading.Thread(target=process.run, name='consume', daemon=True)
    thread.start()
    assert process.consuming.wait(timeout=20), 'consumers did not start'
    try:
        yield process, thread
    finally:
        process.stop()
        thread.join(timeout=20)


def test_a_consumer_survives_its_connection_terminated_in_every_stage(
    smtp_app: Flask, smtp_server: RecordingHandler, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every stage loses its connection twice per message; the thread keeps consuming, each mail arrives once."""
    wrapped = {name: TerminatingStage(spec.function) for name, spec in STAGES.items()}
    monkeypatch.setattr(batching_module, 'STAGES', {
        name: replace(spec, function=wrapped[name]) for name, spec in STAGES.items()
    })
    with consumer_thread(smtp_app) as (process, thread):
        client = smtp_app.test_client()
        accepted = [queries.post_event(client, queries.welcome_to(address)).json['id'] for address in ADDRESSES]
        wait_for(
            lambda: not thread.is_alive() or all(queries.sent_delivery(smtp_app, sent) for sent in accepted),
            timeout=60, what='every mail sent',
        )
        assert thread.is_alive(), 'the consumer thread died of a terminated database connection'
        assert process.sessions == 1, 'the consumer reconnected to RabbitMQ: something escaped the callback'

    assert all(wrapped[name].terminated for name in STAGES), {name: stage.terminated for name, stage in wrapped.items()}
    for address in ADDRESSES:
        assert len(smtp_server.to(address)) == 1, address
    assert queries.parked_count(smtp_app) == 0


def test_an_app_context_ends_quietly_on_a_terminated_connection_and_the_pool_recovers(app: Flask) -> None:
    with app.app_context():
        terminate_backend_of(db.session())
    with app.app_context():  # the pool hands out a live connection again
        assert db.session.execute(text('SELECT 1')).scalar_one() == 1


def _terminated_after_commit(app: Flask) -> int:
    """A connection used, committed and back in the pool, whose backend is then terminated; its pid."""
    pid = _backend_pid(app)
    admin_url = PG_ADMIN_URL.replace('postgresql+psycopg://', 'postgresql://')
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute('SELECT pg_terminate_backend(%s, %s)', (pid, TERMINATE_WAIT_MS))
    return pid


def _backend_pid(app: Flask) -> int:
    with app.app_context():
        return int(db.session.execute(text('SELECT pg_backend_pid()')).scalar_one())


def test_an_idle_dead_connection_is_replaced_before_use(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ping per checkout, but a connection idle for a while is pinged, and a dead one never reaches a caller."""
    monkeypatch.setattr(idle_ping, 'IDLE_PING_SECONDS', -1)
    dead = _terminated_after_commit(app)
    assert _backend_pid(app) != dead  # no error: the ping found it dead and the pool opened another


def test_a_busy_dead_connection_fails_once_and_the_pool_recovers(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection used a moment ago is not pinged: its death is seen by the next statement, once."""
    monkeypatch.setattr(idle_ping, 'IDLE_PING_SECONDS', 3600.0)
    dead = _terminated_after_commit(app)
    with pytest.raises(OperationalError):
        _backend_pid(app)
    assert _backend_pid(app) != dead  # the error invalidated the pool: the caller's next try gets a live one


def _relay_then_terminate(relay_pending: Any, session: Session, *arguments: Any, **options: Any) -> int:
    relayed = int(relay_pending(session, *arguments, **options))
    terminate_backend_of(session)
    return relayed


def test_the_outbox_relay_survives_a_terminated_connection(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    relay_pending = relay_module.relay_pending
    monkeypatch.setattr(relay_module, 'relay_pending', partial(_relay_then_terminate, relay_pending))
    broker = BrokerConnection(settings_of(app).broker_url, 'test relay')  # never opened: publish is given
    relay = Relay(app, broker, 1, publish=broker.publish)
    assert relay.relay_once() == 0
    monkeypatch.setattr(relay_module, 'relay_pending', relay_pending)
    assert relay.relay_once() == 0  # a fresh connection


def _pass_then_broker_and_database_gone(scheduler_pass: Any, session: Session, *arguments: Any) -> int:
    scheduler_pass(session, *arguments)
    terminate_backend_of(session)  # leaves a transaction open, as publish_now does when a publish fails
    raise BrokerUnavailableError('RabbitMQ is down too')


def test_a_scheduler_pass_survives_a_terminated_connection(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The broker-down branch of ``tick`` kept the session's transaction; ending it raised and stopped the loop."""
    scheduler_pass = loop_module.scheduler_pass
    monkeypatch.setattr(loop_module, 'scheduler_pass', partial(_pass_then_broker_and_database_gone, scheduler_pass))
    scheduler = SchedulerLoop(app)
    assert scheduler.tick() == 0
    monkeypatch.setattr(loop_module, 'scheduler_pass', scheduler_pass)
    assert scheduler.tick() == 0  # a fresh connection
