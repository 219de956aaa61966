"""The ``schedule`` mode: fire due schedules, release due notifications, relay the outbox, repeat.

The scheduler's work is in the database: it keeps firing on time while
RabbitMQ is down, and what it wrote waits in the outbox until the broker is
back (it reconnects with backoff). Several schedulers may run at once on
PostgreSQL: schedules are locked with ``SKIP LOCKED``, occurrences are unique,
releasing a notification is a compare-and-set.
"""

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from notifier.backoff import Backoff
from notifier.extensions import db, discard_session, end_session
from notifier.models.base import utcnow
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerConnectionLostError, BrokerUnavailableError
from notifier.pipeline.declare import declare_topology
from notifier.pipeline.relay import Relay
from notifier.scheduler.lock import single_scheduler_on_sqlite
from notifier.scheduler.passes import scheduler_pass
from notifier.settings import settings_of

logger = logging.getLogger(__name__)


class SchedulerLoop:
    """One scheduler process."""

    def __init__(self, app: Flask) -> None:
        """Prepare the broker connection the scheduler and its relay publish through."""
        self._app = app
        self._settings = settings_of(app)
        self._broker = BrokerConnection(self._settings.broker_url, 'notifier schedule')
        self._relay = Relay(app, self._broker, self._settings.relay_interval, self.publish)
        self._stopping = threading.Event()
        self._backoff = Backoff()
        self._reconnect_at = time.monotonic()

    def stop(self) -> None:
        """Finish the current pass and return from :meth:`run`; safe from a signal handler."""
        self._stopping.set()

    def publish(
        self,
        routing_key: str,
        body: Mapping[str, Any],
        message_id: str,
        headers: Mapping[str, Any] | None = None,
    ) -> None:
        """Publish through the broker, connecting first if it is time to try again."""
        if not self._broker.is_open:
            self._connect()
        self._broker.publish(routing_key, body, message_id, headers)

    def tick(self) -> int:
        """One pass: fire due schedules, release due notifications, relay the outbox.

        Returns how many outbox rows the pass wrote.
        """
        with self._app.app_context():
            try:
                written = scheduler_pass(db.session(), utcnow(), self.publish)
            except (BrokerUnavailableError, BrokerConnectionLostError) as error:
                logger.debug('publishing waits for RabbitMQ: %s', error)  # the rows stay in the outbox
                written = 0
            except Exception as error:  # noqa: B902 - survive a database outage, try again next pass
                logger.warning('scheduler pass failed, will try again: %s', error)
                discard_session()
                written = 0
            finally:
                end_session()  # a connection terminated meanwhile is discarded, never raised out of the loop
        self._relay.relay_once()
        return written

    def run(self) -> None:
        """Loop until stopped."""
        with single_scheduler_on_sqlite(self._settings):
            logger.info('scheduler running, every %.1fs', self._settings.scheduler_interval)
            while not self._stopping.is_set():
                self.tick()
                self._wait()
            self._broker.close()
        logger.info('scheduler stopped')

    def _connect(self) -> None:
        if time.monotonic() < self._reconnect_at:
            raise BrokerUnavailableError('waiting before reconnecting to RabbitMQ')
        try:
            declare_topology(self._broker, self._settings)
        except BrokerUnavailableError as error:
            delay = self._backoff.next_delay()
            self._reconnect_at = time.monotonic() + delay
            logger.warning('%s; the scheduler keeps firing, publishing again in %.1fs', error, delay)
            raise
        self._backoff.reset()

    def _wait(self) -> None:
        """Sleep until the next pass, servicing the broker connection (heartbeats) meanwhile."""
        interval = self._settings.scheduler_interval
        if not self._broker.is_open:
            self._stopping.wait(interval)
            return
        try:
            self._broker.process_events(interval)
        except BrokerConnectionLostError as error:
            logger.warning('%s; the scheduler keeps firing and reconnects to publish', error)
            self._broker.close()
