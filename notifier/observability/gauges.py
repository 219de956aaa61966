"""Gauges read from the database when ``/metrics`` is scraped: outbox backlog, breakers, rate limits.

They describe the whole service, not one process: every API process reports
the same values, so a dashboard takes ``max`` over the instances.
"""

import logging
from collections.abc import Iterator
from typing import Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifier.models import BreakerPhase, BreakerState, OutboxMessage, RateLimit
from notifier.models.base import utcnow

logger = logging.getLogger(__name__)

BREAKER_PHASES: Final = (BreakerPhase.closed, BreakerPhase.open, BreakerPhase.probing, BreakerPhase.recovering)


class DatabaseGauges(Collector):
    """The outbox backlog, the breakers every process reported, and the rate limits in force."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def collect(self) -> Iterator[Metric]:
        """Each family from its own query; a failed query leaves its family out and says so."""
        readable = GaugeMetricFamily(
            'notifier_state_read', '1 when the database state (outbox, breakers, rate limits) was read, else 0',
        )
        try:
            families = [*self._outbox(), *self._breakers(), self._rate_limits()]
        except SQLAlchemyError as error:
            logger.warning('cannot read the database state for /metrics: %s', type(error).__name__)
            self._session.rollback()
            readable.add_metric([], 0)
            yield readable
            return
        yield from families
        readable.add_metric([], 1)
        yield readable

    def _outbox(self) -> list[Metric]:
        backlog = GaugeMetricFamily(
            'notifier_outbox_backlog', 'Outbox rows committed but not yet published (the relay catches up)',
        )
        oldest = GaugeMetricFamily(
            'notifier_outbox_oldest_seconds', 'Age of the oldest unpublished outbox row (0 when none)',
        )
        set_aside = GaugeMetricFamily(
            'notifier_outbox_set_aside',
            'Outbox rows the relay set aside after the broker refused them (`notifier outbox list`)',
        )
        unpublished = OutboxMessage.published_at.is_(None)
        count, created = self._session.execute(
            select(func.count(), func.min(OutboxMessage.created_at)).where(
                unpublished, OutboxMessage.set_aside_at.is_(None),
            ),
        ).one()
        backlog.add_metric([], count)
        age = utcnow() - created if created is not None else None
        oldest.add_metric([], max(0, age.total_seconds()) if age is not None else 0)
        set_aside.add_metric([], self._session.scalar(
            select(func.count()).select_from(OutboxMessage).where(unpublished, OutboxMessage.set_aside_at.isnot(None)),
        ) or 0)
        return [backlog, oldest, set_aside]

    def _breakers(self) -> list[Metric]:
        breakers = GaugeMetricFamily(
            'notifier_breaker_state',
            'Circuit breakers as each process last reported them: 1 for the phase it is in, 0 for the others',
            labels=['breaker', 'holder', 'state'],
        )
        changed = GaugeMetricFamily(
            'notifier_breaker_changed_timestamp_seconds',
            'When each breaker last changed phase (a row of a process long gone keeps its old time)',
            labels=['breaker', 'holder'],
        )
        for breaker in self._session.scalars(select(BreakerState)):
            for phase in BREAKER_PHASES:
                breakers.add_metric([breaker.name, breaker.holder, phase], int(breaker.phase == phase))
            changed.add_metric([breaker.name, breaker.holder], breaker.changed_at.timestamp())
        return [breakers, changed]

    def _rate_limits(self) -> Metric:
        limits = GaugeMetricFamily(
            'notifier_rate_limit_per_second', 'Run-time rate limits (token bucket rates) set by an operator',
            labels=['limit'],
        )
        for rate_limit in self._session.scalars(select(RateLimit)):
            limits.add_metric([rate_limit.name], rate_limit.per_second)
        return limits
