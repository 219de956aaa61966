"""The outbox relay as a loop on a broker connection's thread (``consume`` and ``schedule``).

It runs on a timer (the safety poll) and, in ``consume``, whenever
:mod:`notifier.pipeline.outbox_wakeup` hears that rows were written: wakes
that come while a run is pending are one run.
"""

import logging
import threading

from flask import Flask

from notifier.constants import OUTBOX_BATCH_SIZE
from notifier.extensions import db, discard_session, end_session
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerConnectionLostError
from notifier.pipeline.outbox import Publish, relay_pending
from notifier.pipeline.outbox_wakeup import OutboxListener, listens
from notifier.settings import settings_of

logger = logging.getLogger(__name__)

#: The relay's poll when PostgreSQL wakes it on every outbox write: only for a wake that was lost.
SAFETY_POLL_SECONDS = 5.0
#: A wake runs the pass this much later, so the writes of that moment go out in one pass. Every
#: ``consume`` process is woken by every write: without the delay each single POST cost a pass in
#: every process (a locking read each, all but one finding nothing) and went out alone. The pass's
#: rows are the stages' next batch, and a stage's cost per batch is most of it for a few messages:
#: 20 ms made batches of 3 at 300 POSTs/s, 80 ms makes them 12 (1.9 -> 1.5 ms of consumer CPU per
#: mail); an instant notification waits these 80 ms more, well within its second.
WAKE_DELAY_SECONDS = 0.08


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
        self._publish_many = None if publish else broker.publish_many
        self._woken = False

    def tick(self) -> None:
        """Relay once, then schedule the next tick on the connection's timer (call once per connection)."""
        self._woken = False  # a wake pending on an earlier connection died with it
        self._tick()

    def wake(self) -> None:
        """Relay soon, on the connection's thread; safe from any thread."""
        self._broker.call_threadsafe(self._on_wake)

    def relay_once(self) -> int:
        """Publish what the outbox holds; a database error waits for the next tick."""
        with self._app.app_context():
            try:
                return relay_pending(db.session(), self._publish, publish_many=self._publish_many)
            except Exception as error:  # noqa: B902 - the relay must survive a database outage
                logger.warning('outbox relay failed, will try again: %s', error)
                discard_session()
                return 0
            finally:
                end_session()  # a connection terminated meanwhile is discarded, never raised out of the timer

    def _on_wake(self, delay: float = WAKE_DELAY_SECONDS) -> None:
        if not self._woken:
            self._woken = True
            self._broker.call_later(delay, self._run_woken)

    def _run_woken(self) -> None:
        self._woken = False
        self._relay_all()

    def _tick(self) -> None:
        self._relay_all()
        self._broker.call_later(self._interval, self._tick)

    def _relay_all(self) -> None:
        """Relay a pass; a full one leaves more behind: then another pass soon (after what else waits).

        A connection lost meanwhile is raised out of the connection's timer, so the process reconnects
        (the relay logged it and carries on when it has no connection of its own to lose).
        """
        relayed = self.relay_once()
        if not self._broker.is_open:
            raise BrokerConnectionLostError('lost the RabbitMQ connection while relaying the outbox')
        if relayed >= OUTBOX_BATCH_SIZE:
            self._on_wake(delay=0)  # a backlog: no reason to wait for more


def woken_relay(app: Flask, broker: BrokerConnection, stopping: threading.Event) -> tuple[Relay, OutboxListener | None]:
    """A ``consume`` process's relay and, with PostgreSQL, the listener that wakes it on every outbox write.

    Then it polls only as a safety net (``SAFETY_POLL_SECONDS``), for a wake that was lost.
    """
    settings = settings_of(app)
    database_url = settings.resolved_database_url
    if not listens(database_url):
        return Relay(app, broker, settings.relay_interval), None
    relay = Relay(app, broker, max(settings.relay_interval, SAFETY_POLL_SECONDS))
    return relay, OutboxListener(database_url, relay.wake, stopping)
