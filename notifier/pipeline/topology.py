"""Names and arguments of the exchanges and queues (pure data, no pika).

Every work queue is a durable quorum queue with a delivery limit: a message
that crashes its consumer again and again is dead-lettered to the parking
lot instead of looping. The parking lot's own limit is one browsing never
reaches, so looking at a parked message never drops it. Retries wait in one delay queue per tier (TTL on the
queue, never per message, so a long delay never blocks a short one) and are
dead-lettered back to the main exchange with their original routing key.

The generator, worker and channel queues come in two lanes: the instant
lane (``worker``) and the bulk lane (``worker.bulk``). A consumer of a stage
reads both, so an instant notification never waits behind a mailing's
backlog: at most behind the few bulk messages already prefetched.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.constants import DELAY_TIER_HEADER

EXCHANGE = 'notifier'
RETRY_EXCHANGE = 'notifier.retry'
#: Fan-out of live websocket pushes: every API process binds its own exclusive queue (pipeline/live.py).
LIVE_EXCHANGE = 'notifier.live'

NOTIFICATIONS = 'notifications'
GENERATOR = 'generator'
WORKER = 'worker'
PARKING_LOT = 'parking-lot'
CHANNEL_PREFIX = 'channel.'
#: The bulk lane of a stage's queue: ``worker.bulk``, ``channel.email.bulk``.
BULK_LANE_SUFFIX = '.bulk'

QUEUE_PREFIX = 'notifier.'

#: The parking lot's delivery limit: one that browsing never reaches. Browsing (``dlq list``,
#: ``dlq show``, the admin) takes parked messages and gives them back, and each give-back counts
#: as a delivery. RabbitMQ 4.x gives a quorum queue declared without a limit a limit of 20, and
#: the parking lot dead-letters nowhere: the 21st look would drop the message. ``-1`` means "no
#: limit" on 4.x only; on 3.x it drops a message at its first give-back. So: the largest limit
#: a 32-bit signed field holds, which both accept (docs/operations.md, "The parking lot").
PARKING_LOT_DELIVERY_LIMIT = 2147483647
DELIVERY_LIMIT = 'x-delivery-limit'


def channel_route(channel: str) -> str:
    """The routing key of a channel's send queue."""
    return '{0}{1}'.format(CHANNEL_PREFIX, channel)


def lane_route(routing_key: str, bulk: bool) -> str:
    """The routing key of a stage's lane: bulk mailings go to the bulk lane, everything else to the instant one."""
    return '{0}{1}'.format(routing_key, BULK_LANE_SUFFIX) if bulk else routing_key


def both_lanes(routing_key: str) -> list[str]:
    """The instant and the bulk lane of a stage (a consumer reads the instant one first)."""
    return [routing_key, lane_route(routing_key, bulk=True)]


def queue_name(routing_key: str) -> str:
    """Queues are named after their routing key, under the ``notifier.`` prefix."""
    return '{0}{1}'.format(QUEUE_PREFIX, routing_key)


def delay_queue_name(delay_seconds: int) -> str:
    """The delay queue of one retry tier."""
    return '{0}delay.{1}s'.format(QUEUE_PREFIX, delay_seconds)


@dataclass(frozen=True)
class QueueSpec:
    """A queue to declare, and how it is bound."""

    name: str
    exchange: str
    routing_key: str
    arguments: Mapping[str, Any]
    binding_arguments: Mapping[str, Any] | None = None


def _quorum(extra: Mapping[str, Any]) -> dict[str, Any]:
    return {'x-queue-type': 'quorum', **extra}


def work_queues(channels: Sequence[str], delivery_limit: int) -> list[QueueSpec]:
    """The stage queues, one send queue per channel, and the parking lot."""
    dead_letter_to_parking = {
        DELIVERY_LIMIT: delivery_limit,
        'x-dead-letter-exchange': EXCHANGE,
        'x-dead-letter-routing-key': PARKING_LOT,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
    }
    laned = [GENERATOR, WORKER, *(channel_route(name) for name in channels)]
    routes = [NOTIFICATIONS, *(lane for route in laned for lane in both_lanes(route))]
    specs = [
        QueueSpec(queue_name(route), EXCHANGE, route, _quorum(dead_letter_to_parking))
        for route in routes
    ]
    specs.append(QueueSpec(
        queue_name(PARKING_LOT), EXCHANGE, PARKING_LOT, _quorum({DELIVERY_LIMIT: PARKING_LOT_DELIVERY_LIMIT}),
    ))
    return specs


def all_queues(channels: Sequence[str], delivery_limit: int, delays: Sequence[int]) -> list[QueueSpec]:
    """Everything a mode declares at start: work queues, parking lot and delay queues."""
    return [*work_queues(channels, delivery_limit), *delay_queues(delays)]


def delay_queues(delays: Sequence[int]) -> list[QueueSpec]:
    """One delay queue per retry tier, bound to the retry exchange by header."""
    return [
        QueueSpec(
            name=delay_queue_name(delay),
            exchange=RETRY_EXCHANGE,
            routing_key='',
            arguments=_quorum({
                'x-message-ttl': delay * 1000,
                'x-dead-letter-exchange': EXCHANGE,
                'x-dead-letter-strategy': 'at-least-once',
                'x-overflow': 'reject-publish',
            }),
            binding_arguments={'x-match': 'all', DELAY_TIER_HEADER: str(delay)},
        )
        for delay in delays
    ]
