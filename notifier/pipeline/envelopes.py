"""The messages the broker delivers and publishes, as plain values (no AMQP here).

:mod:`notifier.pipeline.broker` turns them into pika's frames and back; the
runner and the relay handle them without importing pika.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifier.pipeline import topology


@dataclass(frozen=True)
class IncomingMessage:
    """A delivered message, as the runner sees it."""

    body: bytes
    routing_key: str
    delivery_tag: int
    headers: Mapping[str, Any]
    message_id: str | None
    redelivered: bool
    #: The channel it came on (its ack must go there); 0: the connection's main channel.
    channel_number: int = 0


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to publish (see :meth:`BrokerConnection.publish_many`)."""

    routing_key: str
    body: Mapping[str, Any] | bytes
    message_id: str | None
    headers: Mapping[str, Any] | None = None
    exchange: str = topology.EXCHANGE
