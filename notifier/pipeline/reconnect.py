"""Keeping a long-running mode connected: reconnect with backoff whenever RabbitMQ goes away.

Unacked messages return to their queues when a connection breaks, so starting
again from a fresh connection loses nothing.
"""

import logging
import threading
from collections.abc import Callable

from notifier.backoff import Backoff
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerConnectionLostError, BrokerUnavailableError

logger = logging.getLogger(__name__)

#: Runs while connected; calls its argument once the connection is up.
Session = Callable[[Callable[[], None]], None]


def keep_connected(session: Session, broker: BrokerConnection, stopping: threading.Event) -> None:
    """Run ``session`` until ``stopping`` is set, starting it again after each broker failure."""
    backoff = Backoff()
    while not stopping.is_set():
        try:
            session(backoff.reset)
        except (BrokerConnectionLostError, BrokerUnavailableError) as error:
            broker.close()
            delay = backoff.next_delay()
            logger.warning('%s; reconnecting in %.1fs', error, delay)
            stopping.wait(delay)
