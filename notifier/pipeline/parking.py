"""The parking lot, for operators: look at parked messages, replay them, or drop them.

Browsing takes messages without acking them and closes the channel, which
returns them to the queue. Each return counts as a delivery
(``x-delivery-count``): the parking lot is declared with a delivery limit
browsing never reaches (:data:`~notifier.pipeline.topology.PARKING_LOT_DELIVERY_LIMIT`),
so that RabbitMQ 4.x's default limit never drops a message someone looked at. A replayed message goes back to the
queue it came from with a fresh attempt count and the replay header, and is
acked in the parking lot only after its republish was confirmed.
"""

import hashlib
from itertools import islice
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from notifier.constants import ATTEMPT_HEADER, PARK_REASON_HEADER, PARKED_BY_HEADER, REPLAY_HEADER
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.envelopes import IncomingMessage
from notifier.pipeline.runner import ORIGINAL_ROUTING_KEY_HEADER

PARKING_QUEUE = topology.queue_name(topology.PARKING_LOT)
_DROPPED_ON_REPLAY = frozenset((
    ATTEMPT_HEADER, PARK_REASON_HEADER, PARKED_BY_HEADER, ORIGINAL_ROUTING_KEY_HEADER, 'x-death',
    'x-first-death-exchange', 'x-first-death-queue', 'x-first-death-reason', 'x-delivery-count',
))
HASH_KEY_LENGTH = 12


@dataclass(frozen=True)
class ParkedMessage:
    """A message in the parking lot, as an operator sees it."""

    key: str
    reason: str
    parked_by: str
    routing_key: str | None
    attempts: int
    headers: Mapping[str, Any]
    body: bytes


def _original_routing_key(headers: Mapping[str, Any]) -> str | None:
    ours = headers.get(ORIGINAL_ROUTING_KEY_HEADER)
    if ours:
        return str(ours)
    deaths = headers.get('x-death') or []
    routing_keys = deaths[0].get('routing-keys', []) if deaths else []
    return str(routing_keys[0]) if routing_keys else None


def _body_key(body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    return 'sha256:{0}'.format(digest[:HASH_KEY_LENGTH])


def describe(incoming: IncomingMessage) -> ParkedMessage:
    """The operator's view of a parked message; its key is its message id, or a hash of its body."""
    headers = incoming.headers
    key = incoming.message_id or _body_key(incoming.body)
    deaths = headers.get('x-death') or []
    default_reason = 'dead-lettered: {0}'.format(deaths[0].get('reason')) if deaths else 'unknown'
    return ParkedMessage(
        key=key,
        reason=str(headers.get(PARK_REASON_HEADER, default_reason)),
        parked_by=str(headers.get(PARKED_BY_HEADER, 'rabbitmq')),
        routing_key=_original_routing_key(headers),
        attempts=int(headers.get(ATTEMPT_HEADER, 0)),
        headers=headers,
        body=incoming.body,
    )


def _taken(broker: BrokerConnection) -> Iterator[IncomingMessage]:
    while True:
        incoming = broker.get(PARKING_QUEUE)
        if incoming is None:
            return
        yield incoming


def browse(broker: BrokerConnection, limit: int) -> list[ParkedMessage]:
    """Up to ``limit`` parked messages, left in the parking lot."""
    found: list[ParkedMessage] = []
    for incoming in _taken(broker):
        found.append(describe(incoming))
        if len(found) >= limit:
            break
    broker.close()  # unacked messages return to the queue
    return found


def requeue(broker: BrokerConnection, keys: Collection[str] | None) -> tuple[int, list[str]]:
    """Replay the parked messages with these keys (all when ``keys`` is None).

    Returns how many were replayed, and the keys that could not be (no known origin).
    """
    replayed = 0
    stuck: list[str] = []
    # Only what is parked now: a replayed message that is parked again must not be taken again.
    parked_now = broker.message_count(PARKING_QUEUE)
    for incoming in islice(_taken(broker), parked_now):
        parked = describe(incoming)
        if keys is not None and parked.key not in keys:
            continue
        if parked.routing_key is None:
            stuck.append(parked.key)
            continue
        headers = {name: header for name, header in incoming.headers.items() if name not in _DROPPED_ON_REPLAY}
        headers[REPLAY_HEADER] = True
        broker.publish(parked.routing_key, incoming.body, incoming.message_id, headers)
        broker.ack(incoming.delivery_tag)
        replayed += 1
    broker.close()
    return replayed, stuck


def purge(broker: BrokerConnection) -> int:
    """Drop every parked message; returns how many."""
    purged = broker.channel.queue_purge(PARKING_QUEUE)
    broker.close()
    return int(purged.method.message_count or 0)
