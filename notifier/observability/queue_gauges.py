"""``notifier_queue_messages{queue}``: the messages waiting in every queue, asked of RabbitMQ at scrape time.

A scrape opens one short connection (``notifier metrics``) and closes it: no
connection sits idle between scrapes. Messages a consumer holds unacked are
not counted (RabbitMQ reports them apart); a queue not declared yet is left out.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerError, BrokerUnavailableError

logger = logging.getLogger(__name__)
CONNECTION_NAME: Final = 'notifier metrics'
#: RabbitMQ is down or the connection broke: the scrape reports it instead of the depths.
_UNREACHABLE: Final = (BrokerError, BrokerUnavailableError)


@dataclass(frozen=True)
class QueueSource:
    """Where the queues are and which there are."""

    broker_url: str
    channels: Sequence[str]
    delivery_limit: int
    retry_delays: Sequence[int]

    @property
    def queue_names(self) -> list[str]:
        """Every queue of the topology: stages, channels, parking lot, delay tiers."""
        specs = topology.all_queues(self.channels, self.delivery_limit, self.retry_delays)
        return [spec.name for spec in specs]


def _depth(broker: BrokerConnection, queue: str) -> int | None:
    try:
        return broker.message_count(queue)
    except _UNREACHABLE:
        raise
    except Exception:  # noqa: B902 - pika's "no such queue" closes the channel; only broker.py imports pika
        broker.close()  # the next queue opens a fresh connection
        return None


class QueueGauges(Collector):
    """The depth of every queue, and whether RabbitMQ answered."""

    def __init__(self, source: QueueSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """Ask RabbitMQ for every queue's depth over one connection."""
        depths = GaugeMetricFamily(
            'notifier_queue_messages', 'Messages ready in a queue (not counting unacked ones)', labels=['queue'],
        )
        reachable = GaugeMetricFamily('notifier_queue_messages_read', '1 when RabbitMQ answered the scrape, else 0')
        broker = BrokerConnection(self._source.broker_url, CONNECTION_NAME)
        try:
            for queue in self._source.queue_names:
                depth = _depth(broker, queue)
                if depth is not None:
                    depths.add_metric([queue], depth)
        except _UNREACHABLE as error:
            logger.warning('cannot read queue depths for /metrics: %s', error)
            reachable.add_metric([], 0)
            yield reachable
            return
        finally:
            broker.close()
        reachable.add_metric([], 1)
        yield depths
        yield reachable
