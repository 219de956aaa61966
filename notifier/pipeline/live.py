"""Live pushes through the fan-out exchange: the websocket channel publishes, API processes subscribe.

The inbox row is the durable record; a live push is the fast path to the
sockets that are open right now. Every API process binds its own exclusive,
server-named queue to :data:`topology.LIVE_EXCHANGE` on a connection of its
own thread, so each process gets every push and forwards it to the sockets
of that user connected to it. A push that nobody receives (no API process
runs, or the user is offline) is not an error: the inbox has the item.
"""

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from notifier.errors import StartupError
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.envelopes import IncomingMessage
from notifier.pipeline.broker_errors import BrokerConnectionLostError, PublishError
from notifier.pipeline.reconnect import keep_connected

logger = logging.getLogger(__name__)

#: Heartbeat of the publisher's connection; an idle one that the broker closed is reopened on the next push.
PUBLISHER_HEARTBEAT_SECONDS: Final = 10
#: Calls with the decoded body of every push this process receives (on the subscription's thread).
PushHandler = Callable[[Mapping[str, Any]], None]


class LivePublisher:
    """Publishes pushes on a connection of its own, used by one thread (the sender's)."""

    def __init__(self, broker_url: str) -> None:
        """No connection until the first push."""
        self._broker_url = broker_url
        self._broker: BrokerConnection | None = None

    def push(self, body: Mapping[str, Any], message_id: str) -> None:
        """Publish one push; a connection the broker dropped is reopened once before giving up."""
        try:
            self._publish(body, message_id)
        except BrokerConnectionLostError:
            self.close()
            self._publish(body, message_id)

    def close(self) -> None:
        """Close the connection, if one is open."""
        if self._broker is not None:
            self._broker.close()
        self._broker = None

    def _publish(self, body: Mapping[str, Any], message_id: str) -> None:
        try:
            self._connection().publish('', body, message_id, exchange=topology.LIVE_EXCHANGE)
        except PublishError as error:
            # Unroutable: no API process is subscribed, so no socket is open anywhere.
            logger.debug('live push %s reached no API process: %s', message_id, error)

    def _connection(self) -> BrokerConnection:
        if self._broker is None or not self._broker.is_open:
            broker = BrokerConnection(self._broker_url, 'notifier live publisher', PUBLISHER_HEARTBEAT_SECONDS)
            broker.open()
            broker.declare(())  # the exchanges, the fan-out one included (idempotent)
            self._broker = broker
        return self._broker


class LiveSubscription:
    """A daemon thread that consumes the fan-out exchange for this process, reconnecting as needed."""

    def __init__(self, broker_url: str, on_push: PushHandler, connection_name: str) -> None:
        """Prepare the connection; :meth:`start` starts the thread."""
        self._broker = BrokerConnection(broker_url, connection_name)
        self._on_push = on_push
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=connection_name, daemon=True)
        #: Set while the exclusive queue is bound and consumed (cleared while reconnecting).
        self.ready = threading.Event()

    def start(self) -> None:
        """Start consuming in the background."""
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop consuming and wait for the thread (safe from any thread)."""
        self._stopping.set()
        self._broker.stop()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            keep_connected(self._session, self._broker, self._stopping)
        except StartupError as error:  # the broker refused the topology: nothing to retry
            logger.error('live pushes are off in this process: %s', error)
        finally:
            self._broker.close()

    def _session(self, connected: Callable[[], None]) -> None:
        self.ready.clear()
        self._broker.declare(())
        self._broker.consume_fanout(topology.LIVE_EXCHANGE, self._on_message)
        self.ready.set()
        connected()
        self._broker.run()

    def _on_message(self, incoming: IncomingMessage) -> None:
        # An exception escaping a pika callback would stop the connection's loop: none escapes.
        try:
            self._on_push(json.loads(incoming.body))
        except Exception:  # noqa: B902 - a bad push is logged and dropped; the inbox keeps the item
            logger.exception('dropping live push %s', incoming.message_id)
        self._broker.ack(incoming.delivery_tag)
