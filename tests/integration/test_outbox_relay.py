"""The outbox relay against the real RabbitMQ: a row that cannot be published is set aside, the rest flow once."""

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select

from notifier.cli.main import cli
from notifier.constants import OUTBOX_MAX_ATTEMPTS
from notifier.extensions import db
from notifier.models import OutboxMessage
from notifier.models.base import utcnow
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerConnectionLostError
from notifier.pipeline.declare import declare_topology
from notifier.pipeline.outbox import Headers
from notifier.pipeline.relay import Relay
from notifier.settings import settings_of

NOTIFICATIONS_QUEUE = topology.queue_name(topology.NOTIFICATIONS)
NOWHERE = 'no-queue-is-bound-here'


@pytest.fixture
def broker(app: Flask) -> Iterator[BrokerConnection]:
    connection = BrokerConnection(settings_of(app).broker_url, 'test outbox relay')
    declare_topology(connection, settings_of(app), ['email'])
    yield connection
    connection.close()


def _rows(app: Flask, *routing_keys: str) -> list[int]:
    """Committed outbox rows, old enough for the relay (past the grace left to their writer)."""
    written = utcnow() - dt.timedelta(minutes=1)
    with app.app_context():
        rows = [
            OutboxMessage(
                message_id='relay-test-{0}'.format(number), routing_key=routing_key,
                payload={'number': number}, headers={}, created_at=written,
            )
            for number, routing_key in enumerate(routing_keys)
        ]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


def _row(app: Flask, row_id: int) -> OutboxMessage:
    with app.app_context():
        found = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id == row_id)).one()
        db.session.expunge(found)
        return found


def _queued_numbers(broker: BrokerConnection) -> list[int]:
    """The payload numbers waiting in the notifications queue (taken off it)."""
    numbers = []
    while True:
        incoming = broker.get(NOTIFICATIONS_QUEUE)
        if incoming is None:
            return sorted(numbers)
        broker.ack(incoming.delivery_tag)
        numbers.append(int(json.loads(incoming.body)['number']))


def test_a_row_that_cannot_be_published_is_set_aside_and_the_rest_go_out_once(
    app: Flask, broker: BrokerConnection,
) -> None:
    first, unroutable, last = _rows(app, topology.NOTIFICATIONS, NOWHERE, topology.NOTIFICATIONS)
    relay = Relay(app, broker, 1)

    published = [relay.relay_once() for _ in range(OUTBOX_MAX_ATTEMPTS + 2)]

    assert published[0] == 2
    assert not any(published[1:])
    assert _queued_numbers(broker) == [0, 2]  # each once, though the row between them failed every tick
    assert (_row(app, first).publish_attempts, _row(app, last).publish_attempts) == (1, 1)
    bad = _row(app, unroutable)
    assert bad.published_at is None
    assert bad.set_aside_at is not None
    assert bad.publish_attempts == OUTBOX_MAX_ATTEMPTS  # counted, never rolled back, and no more once set aside
    assert bad.last_error == "PublishError: no queue is bound for routing key '{0}'".format(NOWHERE)


def test_an_operator_sees_the_rows_set_aside_and_gives_them_back_to_the_relay(
    app: Flask, broker: BrokerConnection,
) -> None:
    unroutable = _rows(app, NOWHERE)[0]
    relay = Relay(app, broker, 1)
    for _ in range(OUTBOX_MAX_ATTEMPTS):
        relay.relay_once()

    listed = _outbox_cli(app, 'list')
    given_back = _outbox_cli(app, 'retry', '--all')
    relay.relay_once()

    assert '{0}  {1}'.format(unroutable, NOWHERE) in listed
    assert 'no queue is bound' in listed
    assert given_back == 'gave 1 row(s) back to the relay\n'
    again = _row(app, unroutable)
    assert (again.set_aside_at, again.publish_attempts) == (None, 1)  # tried again, from a fresh count


def _outbox_cli(app: Flask, *arguments: str) -> str:
    invoked = CliRunner().invoke(cli, ['outbox', *arguments], obj=ScriptInfo(create_app=lambda: app))
    assert invoked.exit_code == 0, invoked.output
    return invoked.output


class _BrokerFailsAt:
    """Publishes through the real broker, except that the n-th publish finds the connection lost."""

    def __init__(self, broker: BrokerConnection, failing_call: int) -> None:
        self._broker = broker
        self._failing_call = failing_call
        self.calls = 0

    def __call__(self, routing_key: str, body: Mapping[str, Any], message_id: str, headers: Headers) -> None:
        self.calls += 1
        if self.calls == self._failing_call:
            raise BrokerConnectionLostError('lost the RabbitMQ connection: test')
        self._broker.publish(routing_key, body, message_id, headers)


def test_rows_published_before_the_broker_failed_are_not_published_again(
    app: Flask, broker: BrokerConnection,
) -> None:
    first, second, third = _rows(app, topology.NOTIFICATIONS, topology.NOTIFICATIONS, topology.NOTIFICATIONS)
    relay = Relay(app, broker, 1, _BrokerFailsAt(broker, failing_call=2))

    assert relay.relay_once() == 0  # the tick ended at the lost connection...
    assert _row(app, first).published_at is not None  # ...but what went out before it is marked
    assert _row(app, second).publish_attempts == 1
    assert _row(app, third).publish_attempts == 0
    assert relay.relay_once() == 2

    assert _queued_numbers(broker) == [0, 1, 2]
    assert [_row(app, row_id).set_aside_at for row_id in (first, second, third)] == [None, None, None]
