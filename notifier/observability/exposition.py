"""What a scrape of ``/metrics`` returns: this process's metrics, or every worker's.

Without ``PROMETHEUS_MULTIPROC_DIR`` the metrics are this process's own. With
it (gunicorn, several workers) they are read from the directory and summed
over every process that wrote there. Delivery counts, the outbox backlog,
breakers, rate limits and queue depths are read at scrape time (database and
RabbitMQ), so they are right whichever process did the work.
"""

import logging
import os
from collections.abc import Iterator
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifier.models import Delivery
from notifier.observability.gauges import DatabaseGauges
from notifier.observability.queue_gauges import QueueGauges, QueueSource

MULTIPROCESS_ENV: Final = 'PROMETHEUS_MULTIPROC_DIR'
logger = logging.getLogger(__name__)


class DeliveriesCollector(Collector):
    """``notifier_deliveries{channel, state}``: the delivery rows, counted when scraped."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def collect(self) -> Iterator[Metric]:
        """Count the deliveries by channel and state; report whether the count worked."""
        deliveries = GaugeMetricFamily(
            'notifier_deliveries', 'Delivery rows by channel and state (counted in the database)',
            labels=['channel', 'state'],
        )
        counted = GaugeMetricFamily(
            'notifier_deliveries_counted', '1 when the delivery counts were read from the database, else 0',
        )
        by_channel_and_state = (Delivery.channel, Delivery.state)
        query = select(*by_channel_and_state, func.count()).group_by(*by_channel_and_state)
        try:
            rows = self._session.execute(query).all()
        except SQLAlchemyError as error:
            logger.warning('cannot count deliveries for /metrics: %s', type(error).__name__)
            self._session.rollback()
            counted.add_metric([], 0)
            yield counted
            return
        for channel, state, count in rows:
            deliveries.add_metric([channel, state], count)
        counted.add_metric([], 1)
        yield deliveries
        yield counted


def multiprocess_enabled() -> bool:
    """True when prometheus-client keeps its values in ``PROMETHEUS_MULTIPROC_DIR``."""
    return bool(os.environ.get(MULTIPROCESS_ENV))


def scrape_registry(session: Session, queues: QueueSource | None = None) -> CollectorRegistry:
    """A registry for one scrape: the process (or all workers') metrics, the database state, the queues."""
    registry = CollectorRegistry()
    if multiprocess_enabled():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REGISTRY)
    registry.register(DeliveriesCollector(session))
    registry.register(DatabaseGauges(session))
    if queues is not None:
        registry.register(QueueGauges(queues))
    return registry


def render_metrics(session: Session, queues: QueueSource | None = None) -> tuple[bytes, str]:
    """The Prometheus text exposition and its content type."""
    return generate_latest(scrape_registry(session, queues)), CONTENT_TYPE_LATEST
