"""What the panel asks of RabbitMQ, through the broker module only: queue depths, and publishing outbox rows."""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from notifier.errors import StartupError
from notifier.extensions import db
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerError
from notifier.pipeline.outbox import publish_now
from notifier.settings import Settings

CONNECTION_NAME: Final = 'notifier admin'
logger = logging.getLogger(__name__)


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


def publish_rows(settings: Settings, row_ids: Collection[int]) -> bool:
    """Publish outbox rows the panel just committed; on failure the outbox relay publishes them a moment later."""
    if not row_ids:
        return True
    broker = BrokerConnection(settings.broker_url, CONNECTION_NAME)
    try:
        broker.open()
        publish_now(db.session(), row_ids, broker.publish)
    except (BrokerError, StartupError) as error:
        logger.warning('publish after commit failed, the outbox relay will retry: %s', error)
        db.session.rollback()
        return False
    finally:
        broker.close()
    return True
