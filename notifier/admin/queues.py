"""What the operations pages ask RabbitMQ: queue depths, through the broker module only."""

from dataclasses import dataclass
from typing import Final

from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.settings import Settings

CONNECTION_NAME: Final = 'notifier admin'


@dataclass(frozen=True)
class QueueDepth:
    """Messages waiting in one queue; ``None`` when the queue is not declared yet."""

    name: str
    messages: int | None


def open_broker(settings: Settings) -> BrokerConnection:
    """A connection for one page; raises :class:`BrokerUnavailableError` when RabbitMQ does not answer."""
    broker = BrokerConnection(settings.broker_url, CONNECTION_NAME)
    broker.open()
    return broker


def _depth(broker: BrokerConnection, queue: str) -> int | None:
    try:
        return broker.message_count(queue)
    except Exception:  # noqa: B902 - pika's "no such queue" closes the channel; only the broker module imports pika
        broker.close()  # the next call opens a fresh connection
        return None


def queue_depths(settings: Settings, channels: tuple[str, ...]) -> list[QueueDepth]:
    """Every queue of the topology (work, channel, parking lot, delay tiers) and how many messages wait."""
    specs = topology.all_queues(channels, settings.delivery_limit, settings.retry_delay_seconds)
    broker = open_broker(settings)
    depths = [QueueDepth(name=spec.name, messages=_depth(broker, spec.name)) for spec in specs]
    broker.close()
    return depths
