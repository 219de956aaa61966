"""The outbox relay as a loop on a broker connection's thread (``consume`` and ``schedule``)."""

import logging

from flask import Flask

from notifier.extensions import db, discard_session, end_session
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.outbox import Publish, relay_pending

logger = logging.getLogger(__name__)


class Relay:
    """Publishes what the outbox holds, every ``interval`` seconds once started."""

    def __init__(
        self, app: Flask, broker: BrokerConnection, interval: float, publish: Publish | None = None,
    ) -> None:
        """Relay through ``broker`` (or ``publish``, when given); :meth:`tick` starts the timer."""
        self._app = app
        self._broker = broker
        self._interval = interval
        self._publish = publish or broker.publish

    def tick(self) -> None:
        """Relay once, then schedule the next tick on the connection's timer."""
        self.relay_once()
        self._broker.call_later(self._interval, self.tick)

    def relay_once(self) -> int:
        """Publish what the outbox holds; a database error waits for the next tick."""
        with self._app.app_context():
            try:
                return relay_pending(db.session(), self._publish)
            except Exception as error:  # noqa: B902 - the relay must survive a database outage
                logger.warning('outbox relay failed, will try again: %s', error)
                discard_session()
                return 0
            finally:
                end_session()  # a connection terminated meanwhile is discarded, never raised out of the timer
