"""The queue topology as RabbitMQ holds it once declared: quorum queues, their limits, the delay tiers.

Declared in a vhost of this test on the machine's RabbitMQ and read back with
``rabbitmqctl list_queues`` (what the broker made of the arguments, not what
the code meant to send); the delivery limit is then exercised: a message
returned more often than the limit ends in the parking lot.
"""

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pika
import pytest

from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.declare import declare_queues
from tests.plugins.services import RABBITMQCTL, own_vhost

DELIVERY_LIMIT = 2
DELAYS = (10, 60)
CHANNELS = ('email', 'sms')
#: How long a dead-lettered message may take to reach the parking lot.
DEAD_LETTER_SECONDS = 30.0


@pytest.fixture
def declared() -> Iterator[str]:
    """The broker URL of a vhost of its own where the whole topology was declared."""
    with own_vhost() as broker_url:
        broker = BrokerConnection(broker_url, 'test topology declared')
        try:
            declare_queues(broker, topology.all_queues(CHANNELS, DELIVERY_LIMIT, DELAYS))
        finally:
            broker.close()
        yield broker_url


def _queues(broker_url: str) -> dict[str, dict[str, Any]]:
    """Each queue's type and arguments, as RabbitMQ lists them."""
    vhost = unquote(urlsplit(broker_url).path[1:])
    listed = subprocess.run(
        [*RABBITMQCTL, 'list_queues', '-p', vhost, '--formatter', 'json', 'name', 'type', 'arguments'],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return {
        queue['name']: {'type': queue['type'], **{name: argument for name, _, argument in queue['arguments']}}
        for queue in json.loads(listed.stdout)
    }


def test_work_queues_are_quorum_with_a_delivery_limit_into_the_parking_lot(declared: str) -> None:
    queues = _queues(declared)

    work = {
        'notifier.notifications', 'notifier.generator', 'notifier.worker',
        'notifier.channel.email', 'notifier.channel.sms',
        # the bulk lanes: a mailing's messages never sit in front of instant ones
        'notifier.generator.bulk', 'notifier.worker.bulk', 'notifier.channel.email.bulk', 'notifier.channel.sms.bulk',
    }
    assert work | {'notifier.parking-lot'} <= set(queues)
    for name in work:
        assert queues[name]['type'] == 'quorum', name
        assert queues[name]['x-delivery-limit'] == DELIVERY_LIMIT, name
        assert queues[name]['x-dead-letter-exchange'] == topology.EXCHANGE, name
        assert queues[name]['x-dead-letter-routing-key'] == 'parking-lot', name
        assert queues[name]['x-dead-letter-strategy'] == 'at-least-once', name
    parking_lot = queues['notifier.parking-lot']
    assert parking_lot['type'] == 'quorum'
    assert 'x-dead-letter-exchange' not in parking_lot
    # RabbitMQ 4.x would give it a limit of 20 that browsing reaches; -1 drops at once on 3.x
    assert parking_lot['x-delivery-limit'] == 2147483647


def test_a_message_returned_more_often_than_the_delivery_limit_is_dead_lettered_into_the_parking_lot(
    declared: str,
) -> None:
    with pika.BlockingConnection(pika.URLParameters(declared)) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(topology.EXCHANGE, 'worker', b'{"poison": true}', mandatory=True)
        for _ in range(DELIVERY_LIMIT + 1):
            method = _get(channel, 'notifier.worker')
            channel.basic_nack(method.delivery_tag, requeue=True)
        parked = _get(channel, 'notifier.parking-lot')
        channel.basic_ack(parked.delivery_tag)
        assert channel.queue_declare('notifier.worker', passive=True).method.message_count == 0


def _get(channel: Any, queue: str) -> Any:
    """The next message of ``queue`` (it may still be on its way), unacked."""
    deadline = time.monotonic() + DEAD_LETTER_SECONDS
    while time.monotonic() < deadline:
        method, _, _ = channel.basic_get(queue)
        if method is not None:
            return method
        channel.connection.sleep(0.1)
    pytest.fail('nothing arrived in {0} within {1}s'.format(queue, DEAD_LETTER_SECONDS))


def test_one_delay_queue_per_tier_with_the_ttl_on_the_queue(declared: str) -> None:
    queues = _queues(declared)

    assert queues['notifier.delay.10s']['x-message-ttl'] == 10000
    assert queues['notifier.delay.60s']['x-message-ttl'] == 60000
    bindings = _bindings(declared, topology.RETRY_EXCHANGE)
    # x-match=all ignores x- headers: the tier header must not start with x-
    assert bindings == {
        'notifier.delay.10s': {'x-match': 'all', 'notifier-delay': '10'},
        'notifier.delay.60s': {'x-match': 'all', 'notifier-delay': '60'},
    }


def _bindings(broker_url: str, exchange: str) -> dict[str, dict[str, Any]]:
    """The queues bound to ``exchange`` and their binding arguments, as RabbitMQ lists them."""
    vhost = unquote(urlsplit(broker_url).path[1:])
    listed = subprocess.run(
        [*RABBITMQCTL, 'list_bindings', '-p', vhost, '--formatter', 'json', 'source_name', 'destination_name',
         'arguments'],
        check=True, capture_output=True, text=True, timeout=60,
    )
    return {
        binding['destination_name']: {name: argument for name, _, argument in binding['arguments']}
        for binding in json.loads(listed.stdout) if binding['source_name'] == exchange
    }
