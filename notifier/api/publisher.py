"""Publishing outbox rows right after the API's commit.

One broker connection per API process, used under a lock (a pika connection
belongs to one thread at a time). A failed publish is not an error for the
client: the row stays in the outbox and the relay publishes it later.
"""

import logging
import threading
from collections.abc import Collection

from flask import current_app

from notifier.settings import settings_of
from notifier.extensions import db
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerError
from notifier.pipeline.outbox import publish_now
from notifier.errors import StartupError

logger = logging.getLogger(__name__)
PUBLISHER_HEARTBEAT_SECONDS = 10
PUBLISHER_KEY = 'notifier.publisher'


class ApiPublisher:
    """The process's publisher; reconnects on the next publish after a failure."""

    def __init__(self, broker_url: str) -> None:
        """No connection until the first publish."""
        self._broker_url = broker_url
        self._lock = threading.Lock()
        self._broker: BrokerConnection | None = None

    def publish_outbox(self, row_ids: Collection[int]) -> bool:
        """Publish these just-committed rows; False leaves them to the relay."""
        with self._lock:
            try:
                publish_now(db.session(), row_ids, self._connection().publish)
            except (BrokerError, StartupError) as error:
                logger.warning('publish after commit failed, the outbox relay will retry: %s', error)
                db.session.rollback()
                self._reset()
                return False
        return True

    def ping(self) -> None:
        """Raise if the broker cannot be reached (for ``/readyz``)."""
        with self._lock:
            try:
                self._connection().process_events(0)
            except BrokerError:
                self._reset()
                self._connection().process_events(0)

    def _connection(self) -> BrokerConnection:
        if self._broker is None or not self._broker.is_open:
            broker = BrokerConnection(
                self._broker_url, 'notifier api', heartbeat=PUBLISHER_HEARTBEAT_SECONDS,
            )
            broker.open()
            self._broker = broker
        return self._broker

    def _reset(self) -> None:
        if self._broker is not None:
            self._broker.close()
        self._broker = None


def current_publisher() -> ApiPublisher:
    """The publisher of the current app, created on first use (after a gunicorn fork, not before)."""
    found = current_app.extensions.get(PUBLISHER_KEY)
    if found is None:
        found = ApiPublisher(settings_of().broker_url)
        current_app.extensions[PUBLISHER_KEY] = found
    return found
