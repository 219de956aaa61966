"""The ``schedule`` mode: release due notifications, relay the outbox, sleep, repeat.

Several schedulers may run at once: releasing is a compare-and-set per
notification, and the outbox relay locks rows with ``SKIP LOCKED``.
"""

import logging
import threading
from collections.abc import Callable

from flask import Flask

from notifier.extensions import db
from notifier.models.base import utcnow
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.reconnect import keep_connected
from notifier.pipeline.relay import Relay
from notifier.plugins import default_registry
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
        self._relay = Relay(app, self._broker, self._settings.relay_interval)
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Finish the current pass and return from :meth:`run`; safe from a signal handler."""
        self._stopping.set()

    def tick(self) -> int:
        """One pass: fire due schedules, release due notifications, relay the outbox.

        Returns how many outbox rows the pass wrote.
        """
        with self._app.app_context():
            try:
                written = scheduler_pass(db.session(), utcnow(), self._broker.publish)
            except Exception as error:  # noqa: B902 - survive a database or broker outage; the relay catches up
                logger.warning('scheduler pass failed, will try again: %s', error)
                db.session.rollback()
                written = 0
            finally:
                db.session.remove()
        self._relay.relay_once()
        return written

    def run(self) -> None:
        """Loop until stopped, servicing the broker connection between passes."""
        with single_scheduler_on_sqlite(self._settings):
            logger.info('scheduler running, every %.1fs', self._settings.scheduler_interval)
            keep_connected(self._session, self._broker, self._stopping)
            self._broker.close()
        logger.info('scheduler stopped')

    def _session(self, connected: Callable[[], None]) -> None:
        self._broker.declare(topology.all_queues(
            sorted(default_registry().channels()),
            self._settings.delivery_limit,
            self._settings.retry_delay_seconds,
        ))
        connected()
        while not self._stopping.is_set():
            self.tick()
            self._broker.process_events(self._settings.scheduler_interval)
