"""The ``schedule`` mode: release due notifications, relay the outbox, sleep, repeat."""

import logging
from contextlib import closing

from flask import Flask

from notifier.settings import settings_of
from notifier.stopping import StopSignal
from notifier.extensions import db
from notifier.models.base import utcnow
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline import topology
from notifier.pipeline.relay import Relay
from notifier.pipeline.outbox import publish_now
from notifier.plugins import default_registry
from notifier.scheduler.due import release_due

logger = logging.getLogger(__name__)


class SchedulerLoop:
    """One scheduler process; several may run at once."""

    def __init__(self, app: Flask) -> None:
        """Prepare the broker connection the relay publishes through."""
        self._app = app
        self._settings = settings_of(app)
        self._broker = BrokerConnection(self._settings.broker_url, 'notifier schedule')
        self._relay = Relay(app, self._broker, self._settings.relay_interval)
        self._stop = StopSignal()

    def stop_on_signals(self) -> None:
        """Finish the current pass and return from :meth:`run` on SIGTERM or SIGINT."""
        self._stop.install()

    def tick(self) -> int:
        """One pass: release what is due, then relay the outbox. Returns how many were released."""
        with self._app.app_context():
            try:
                released = release_due(db.session(), utcnow())
                publish_now(db.session(), released, self._broker.publish)
            except Exception as error:  # noqa: B902 - survive a database outage, try next pass
                logger.warning('scheduler pass failed, will try again: %s', error)
                db.session.rollback()
                released = []
            finally:
                db.session.remove()
        if released:
            logger.info('released %d due notification(s)', len(released))
        self._relay.relay_once()
        return len(released)

    def run(self) -> None:
        """Loop until stopped, servicing the broker connection between passes."""
        self._broker.declare(topology.all_queues(
            sorted(default_registry().channels()),
            self._settings.delivery_limit,
            self._settings.retry_delay_seconds,
        ))
        logger.info('scheduler running, every %.1fs', self._settings.scheduler_interval)
        with closing(self._broker):
            while not self._stop.requested:
                self.tick()
                self._broker.process_events(self._settings.scheduler_interval)
        logger.info('scheduler stopped')


def run_scheduler(app: Flask) -> None:
    """Run the scheduler until SIGTERM/SIGINT."""
    loop = SchedulerLoop(app)
    loop.stop_on_signals()
    loop.run()
