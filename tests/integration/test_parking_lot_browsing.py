"""Browsing the parking lot never drops a parked message, whatever RabbitMQ's delivery limits."""

import json
import logging
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from notifier.app import create_app
from notifier.cli.main import cli
from notifier.constants import PARK_REASON_HEADER, PARKED_BY_HEADER
from notifier.pipeline import parking, topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.declare import declare_topology
from notifier.settings import settings_of
from tests.plugins.app import make_settings
from tests.plugins.services import RABBITMQCTL, own_vhost

#: RabbitMQ 4.x's delivery limit for a quorum queue declared without one; browse more often than that.
DEFAULT_LIMIT_OF_RABBITMQ_4 = 20
LOOKS = DEFAULT_LIMIT_OF_RABBITMQ_4 + 5
PARKED_KEY = 'send:looked-at'


@pytest.fixture
def vhost_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on a vhost of its own, where nothing but this test touches the parking lot."""
    with own_vhost() as broker_url:
        yield create_app(make_settings('sqlite:///{0}'.format(tmp_path / 'notifier.db'), broker_url, tmp_path))


def _broker(app: Flask) -> BrokerConnection:
    return BrokerConnection(settings_of(app).broker_url, 'test parking lot browsing')


def _park_one(app: Flask) -> None:
    broker = _broker(app)
    broker.publish(topology.PARKING_LOT, {'delivery_id': 'looked-at'}, PARKED_KEY, {
        PARK_REASON_HEADER: 'SMTP 550 no such user', PARKED_BY_HEADER: 'sender',
    })
    broker.close()


def _dlq(app: Flask, *arguments: str) -> str:
    invoked = CliRunner().invoke(cli, ['dlq', *arguments], obj=ScriptInfo(create_app=lambda: app))
    assert invoked.exit_code == 0, invoked.output
    return invoked.output


def _vhost(app: Flask) -> str:
    return unquote(urlsplit(settings_of(app).broker_url).path[1:])


def _queue_info(app: Flask, queue: str, column: str) -> Any:
    listed = subprocess.run(
        [*RABBITMQCTL, 'list_queues', '-p', _vhost(app), '--formatter', 'json', 'name', column],
        check=True, capture_output=True, text=True, timeout=60,
    )
    for queue_info in json.loads(listed.stdout):
        if queue_info['name'] == queue:
            return queue_info[column]
    pytest.fail('no queue {0} in {1}'.format(queue, _vhost(app)))


def _arguments(app: Flask, queue: str) -> dict[str, Any]:
    """The queue's arguments as RabbitMQ holds them (rabbitmqctl lists them as name, type, value)."""
    return {name: argument for name, _, argument in _queue_info(app, queue, 'arguments')}


def test_a_parked_message_browsed_more_often_than_any_delivery_limit_stays_parked(vhost_app: Flask) -> None:
    declare_topology(_broker(vhost_app), settings_of(vhost_app), ['email'])
    _park_one(vhost_app)

    for _ in range(LOOKS):
        assert PARKED_KEY in _dlq(vhost_app, 'list')
        assert 'SMTP 550 no such user' in _dlq(vhost_app, 'show', PARKED_KEY)

    parked = parking.browse(_broker(vhost_app), limit=10)
    assert [message.key for message in parked] == [PARKED_KEY]
    looked_at = parked[0]
    # every look counted as a delivery: with RabbitMQ 4.x's default limit the message would be gone
    assert int(looked_at.headers['x-delivery-count']) >= 2 * LOOKS
    arguments = _arguments(vhost_app, parking.PARKING_QUEUE)
    assert arguments['x-delivery-limit'] == topology.PARKING_LOT_DELIVERY_LIMIT
    assert arguments['x-delivery-limit'] > 2 ** 30  # no one browses a billion times


def test_a_parking_lot_declared_by_an_older_version_keeps_its_messages(
    vhost_app: Flask, caplog: pytest.LogCaptureFixture,
) -> None:
    broker = _broker(vhost_app)
    broker.declare([topology.QueueSpec(  # as the versions before the parking lot's limit declared it
        parking.PARKING_QUEUE, topology.EXCHANGE, topology.PARKING_LOT, {'x-queue-type': 'quorum'},
    )])
    broker.close()
    _park_one(vhost_app)

    with caplog.at_level(logging.WARNING, logger='notifier.pipeline.declare'):
        declare_topology(_broker(vhost_app), settings_of(vhost_app), ['email'])

    assert PARKED_KEY in _dlq(vhost_app, 'list')
    assert 'x-delivery-limit' not in _arguments(vhost_app, parking.PARKING_QUEUE)
    warnings = [record.getMessage() for record in caplog.records if 'parking lot' in record.getMessage()]
    assert len(warnings) == 1
    warning = warnings[0]
    assert 'rabbitmqctl set_policy' in warning
    advised = shlex.split(warning.split('policy: ', 1)[1].split(' (docs', 1)[0])
    assert advised[:2] == ['rabbitmqctl', 'set_policy']
    subprocess.run([*RABBITMQCTL, '-p', _vhost(vhost_app), *advised[1:]], check=True, capture_output=True, timeout=60)
    assert _queue_info(vhost_app, parking.PARKING_QUEUE, 'policy') == 'notifier-parking-lot'  # the advice works
