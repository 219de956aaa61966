"""The one place that speaks AMQP (pika): connections, topology, publishing, acks.

Every publish is persistent and ``mandatory``, and made durable before it
returns: messages go out on a transactional channel, and ``tx.commit``
answers only once every queue they reached confirmed them (RabbitMQ completes
a commit after its publisher confirms). A batch of messages costs one round
trip (:meth:`BrokerConnection.publish_many`); an unroutable message raises
:class:`PublishError` instead of vanishing. Each consumed queue has a channel
of its own, so a batch is acked with one ``multiple`` ack. A connection and
its channels belong to the thread that opened it.

The URL may list the nodes of a cluster separated by commas: a connection tries
them in an order of its own (a random rotation, so that processes spread over
the nodes) and takes the first that answers; when that node dies, the
connection is lost like any other and the next :meth:`BrokerConnection.open`
(the reconnect loop) goes to a live node. The unacked messages of the lost
connection are redelivered by the cluster.
"""

import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import (
    AMQPChannelError,
    AMQPConnectionError,
    AMQPError,
    ProbableAccessDeniedError,
    ProbableAuthenticationError,
)
from pika.exchange_type import ExchangeType
from pika.spec import Basic, BasicProperties

from notifier.errors import StartupError
from notifier.pipeline.broker_errors import (
    BrokerConnectionLostError,
    BrokerUnavailableError,
    PublishError,
    redact_url,
)
from notifier.pipeline import topology
from notifier.pipeline.broker_nodes import connection_parameters, rotated
from notifier.pipeline.envelopes import IncomingMessage, OutgoingMessage

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
PERSISTENT = pika.spec.PERSISTENT_DELIVERY_MODE


def _reason(error: AMQPConnectionError) -> str:
    if isinstance(error, ProbableAuthenticationError):
        return 'authentication failed (check the user and password)'
    if isinstance(error, ProbableAccessDeniedError):
        return 'access denied (does the vhost exist, may this user use it?)'
    text = repr(error).lower()
    if 'refused' in text:
        return 'connection refused'
    if 'timeout' in text or 'timed out' in text:
        return 'connection timed out'
    return str(error) or type(error).__name__


def lost(error: AMQPError) -> BrokerConnectionLostError:
    """The error a broken connection or channel becomes."""
    return BrokerConnectionLostError('lost the RabbitMQ connection: {0}'.format(repr(error)))


def unavailable(url: str, error: AMQPConnectionError) -> BrokerUnavailableError:
    """The one-line error an operator sees when RabbitMQ is unreachable."""
    return BrokerUnavailableError(
        'cannot reach RabbitMQ at {0}: {1} — start it with `rabbitmq-server -detached` '
        'or set NOTIFIER_BROKER_URL'.format(redact_url(url), _reason(error)),
    )


def _declare(channel: BlockingChannel, queues: Iterable[topology.QueueSpec]) -> None:
    # types-pika declares the ExchangeType members as str, so mypy sees a str here.
    direct, headers = ExchangeType.direct, ExchangeType.headers
    channel.exchange_declare(topology.EXCHANGE, exchange_type=direct, durable=True)  # type: ignore[arg-type]
    channel.exchange_declare(topology.RETRY_EXCHANGE, exchange_type=headers, durable=True)  # type: ignore[arg-type]
    fanout = ExchangeType.fanout
    channel.exchange_declare(topology.LIVE_EXCHANGE, exchange_type=fanout, durable=True)  # type: ignore[arg-type]
    for spec in queues:
        channel.queue_declare(spec.name, durable=True, arguments=dict(spec.arguments))
        channel.queue_bind(
            spec.name,
            spec.exchange,
            routing_key=spec.routing_key,
            arguments=dict(spec.binding_arguments) if spec.binding_arguments else None,
        )


MessageCallback = Callable[[IncomingMessage], None]


def _incoming(
    method: Basic.Deliver | Basic.GetOk, properties: BasicProperties, body: bytes, channel_number: int = 0,
) -> IncomingMessage:
    return IncomingMessage(
        body=body,
        routing_key=method.routing_key or '',
        delivery_tag=method.delivery_tag or 0,
        headers=properties.headers or {},
        message_id=properties.message_id,
        redelivered=bool(method.redelivered),
        channel_number=channel_number,
    )


class _Dispatch:
    """pika's consumer callback: the delivery as an :class:`IncomingMessage` of its channel."""

    def __init__(self, callback: MessageCallback, channel_number: int) -> None:
        self._callback = callback
        self._channel_number = channel_number

    def __call__(
        self, channel: BlockingChannel, method: Basic.Deliver, properties: BasicProperties, body: bytes,
    ) -> None:
        self._callback(_incoming(method, properties, body, self._channel_number))


def _encoded(message: OutgoingMessage) -> tuple[bytes, BasicProperties]:
    """A mapping is sent as JSON; bytes are sent as they are (a poison message stays as it was)."""
    body = message.body
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False, separators=(',', ':')).encode()
    properties = BasicProperties(
        content_type='application/json',
        delivery_mode=PERSISTENT,
        message_id=message.message_id,
        headers=dict(message.headers or {}),
        timestamp=int(time.time()),
    )
    return body, properties


def _serve(connection: pika.BlockingConnection) -> None:
    """Dispatch for up to a second; a connection that died under a callback is a lost connection."""
    try:
        connection.process_data_events(time_limit=1)
    except AMQPError as error:
        raise lost(error) from None
    # What pika raises when its connection closed meanwhile: AttributeError, OSError, and ValueError
    # ("Timeout closed before call") from the timer of an ioloop that was closed under it.
    except (AttributeError, OSError, ValueError) as error:
        if connection.is_open:
            raise
        raise lost(AMQPConnectionError(repr(error))) from None


class BrokerConnection:
    """A blocking connection: a main channel, a transactional publishing channel, a channel per consumed queue."""

    def __init__(self, url: str, connection_name: str, heartbeat: int = HEARTBEAT_SECONDS) -> None:
        """Remember where to connect; :meth:`open` connects."""
        self.url = url
        self._nodes = connection_parameters(url, connection_name, heartbeat)
        #: Where the node list starts for this connection: processes spread over a cluster's nodes.
        self._first_node = random.randrange(len(self._nodes))  # noqa: S311 - load spreading, not security
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._publisher: BlockingChannel | None = None
        #: The publishing channel under BlockingChannel (pika.channel.Channel), set by open().
        self._publishing: Any = None
        #: The channel of each consumer tag (a consumed queue's own channel).
        self._consumers: dict[str, BlockingChannel] = {}
        self._returned: list[tuple[str, str | None]] = []
        self._stop_requested = False

    @property
    def is_open(self) -> bool:
        """Whether the connection and channel are usable."""
        if self._connection is None or self._channel is None:
            return False
        return bool(self._connection.is_open and self._channel.is_open)

    def open(self) -> None:
        """Connect to the first node that answers, open the main and the publishing channels.

        pika tries the nodes in the order given and raises only when none answered: then
        :class:`BrokerUnavailableError`. Each open starts one node further along the list.
        """
        try:
            self._connection = pika.BlockingConnection(rotated(self._nodes, self._first_node))
        except AMQPConnectionError as error:
            raise unavailable(self.url, error) from None
        finally:
            self._first_node += 1
        self._channel = self._connection.channel()
        self._publisher = self._connection.channel()
        self._publisher.tx_select()
        # BlockingChannel hands a returned message to its callbacks only later, from the event loop; the
        # underlying channel's callback runs while tx.commit waits, before commit-ok, which is when we need it.
        # The underlying channel also takes a batch's publishes without BlockingChannel's poll of the socket
        # after each one: they are written out together when tx.commit flushes.
        underlying = self._publisher._impl  # type: ignore[attr-defined]  # noqa: WPS437 - see the comment above
        underlying.add_on_return_callback(self._on_returned)
        self._publishing = underlying

    def close(self) -> None:
        """Close quietly; the connection may already be gone."""
        connection = self._connection
        self._connection = None
        self._channel = None
        self._publisher = None
        self._publishing = None
        self._consumers.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (AMQPConnectionError, AMQPChannelError, OSError) as error:
                logger.debug('closing the broker connection failed: %s', error)

    @property
    def channel(self) -> BlockingChannel:
        """The open main channel (opening the connection on first use)."""
        if not self.is_open:
            self.open()
        assert self._channel is not None  # noqa: S101 - set by open()
        return self._channel

    def declare(self, queues: Iterable[topology.QueueSpec]) -> None:
        """Declare exchanges and queues idempotently; a clash is a clear startup error."""
        try:
            _declare(self.channel, queues)
        except AMQPChannelError as error:
            self.close()
            raise StartupError(
                'RabbitMQ refused the queue topology: {0}. A queue exists with other arguments; '
                'delete it or use another vhost'.format(error),
            ) from None

    def publish(
        self,
        routing_key: str,
        body: Mapping[str, Any] | bytes,
        message_id: str | None,
        headers: Mapping[str, Any] | None = None,
        exchange: str = topology.EXCHANGE,
    ) -> None:
        """Publish one persistent message; it is durable in its queue when this returns.

        A mapping is sent as JSON; bytes are sent as they are (a poison message stays as it was).
        """
        self.publish_many([OutgoingMessage(routing_key, body, message_id, headers, exchange)])

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish persistent messages with one wait: when this returns, every one is durable in its queue.

        Raises :class:`PublishError` when a message could not be routed (then none of the batch may be
        assumed published: the caller retries or parks the batch's inputs, and duplicates are absorbed
        downstream) and :class:`BrokerConnectionLostError` when the connection broke.
        """
        if not messages:
            return
        if not self.is_open:
            self.open()
        publisher = self._publisher
        assert publisher is not None  # noqa: S101 - set by open()
        self._returned.clear()
        try:
            for message in messages:
                body, properties = _encoded(message)
                self._publishing.basic_publish(
                    message.exchange, message.routing_key, body, properties=properties, mandatory=True,
                )
            publisher.tx_commit()
        except AMQPError as error:
            raise lost(error) from None
        if self._returned:
            keys = sorted({routing_key for routing_key, _ in self._returned})
            raise PublishError(
                '; '.join('no queue is bound for routing key {0!r}'.format(routing_key) for routing_key in keys),
                refused=tuple(message_id for _, message_id in self._returned),
            )

    def consume(self, queue: str, callback: MessageCallback, prefetch: int) -> str:
        """Consume a queue on a channel of its own, with manual acks (the callback must ack); the consumer tag."""
        if not self.is_open:
            self.open()
        assert self._connection is not None  # noqa: S101 - set by open()
        try:
            channel = self._connection.channel()
            channel.basic_qos(prefetch_count=prefetch)
            consumer_tag = str(channel.basic_consume(
                queue, _Dispatch(callback, channel.channel_number), auto_ack=False,
            ))
        except AMQPError as error:
            raise lost(error) from None
        self._consumers[consumer_tag] = channel
        return consumer_tag

    def cancel(self, consumer_tag: str) -> None:
        """Stop one consumer and close its channel: its unacked messages go back to the queue."""
        channel = self._consumers.pop(consumer_tag, None)
        if channel is None:
            return
        try:
            channel.basic_cancel(consumer_tag)
            if channel is not self._channel:  # a queue's own channel; the main one stays
                channel.close()
        except AMQPError as error:
            raise lost(error) from None

    def consume_fanout(self, exchange: str, callback: MessageCallback) -> str:
        """Consume a fan-out exchange through a queue of this connection only (server-named, exclusive).

        The queue goes away with the connection; the callback must ack.
        """
        channel = self.channel
        declared = channel.queue_declare('', exclusive=True, auto_delete=True)
        queue = str(declared.method.queue)
        channel.queue_bind(queue, exchange)
        consumer_tag = str(channel.basic_consume(queue, _Dispatch(callback, 0), auto_ack=False))
        self._consumers[consumer_tag] = channel
        return queue

    def ack(self, delivery_tag: int, channel_number: int = 0, multiple: bool = False) -> None:
        """Acknowledge a message (with ``multiple``: every unacked one up to it on its channel)."""
        channel = self.channel
        for consumed in self._consumers.values():
            if channel_number and consumed.channel_number == channel_number:
                channel = consumed
        try:
            channel.basic_ack(delivery_tag, multiple=multiple)
        except AMQPError as error:
            raise lost(error) from None

    def ack_all(self, messages: Iterable[IncomingMessage]) -> None:
        """Acknowledge messages with one ``multiple`` ack per channel.

        Valid because the caller acks every message it was delivered, in order: no message of a channel
        below the highest tag here is still waiting for its outcome.
        """
        highest: dict[int, int] = {}
        for message in messages:
            highest[message.channel_number] = max(highest.get(message.channel_number, 0), message.delivery_tag)
        for channel_number, delivery_tag in highest.items():
            self.ack(delivery_tag, channel_number, multiple=True)

    def get(self, queue: str) -> IncomingMessage | None:
        """Take one message without acking it (it returns to the queue if never acked)."""
        method, properties, body = self.channel.basic_get(queue, auto_ack=False)
        if method is None or properties is None:
            return None
        raw = body.encode() if isinstance(body, str) else body or b''  # the stubs say str; pika gives bytes
        return _incoming(method, properties, raw)

    def message_count(self, queue: str) -> int:
        """How many messages wait in a queue (not counting unacked ones)."""
        declared = self.channel.queue_declare(queue, passive=True)
        return int(declared.method.message_count or 0)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the connection's thread after ``seconds``."""
        self.channel.connection.call_later(seconds, callback)

    def call_threadsafe(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the connection's thread soon; from any thread. Dropped while disconnected."""
        connection = self._connection
        if connection is not None and connection.is_open:
            try:
                connection.add_callback_threadsafe(callback)
            except AMQPConnectionError as error:  # it closed since (ConnectionWrongStateError)
                logger.debug('a callback for the connection thread was dropped: %s', error)

    def run(self, busy: Callable[[], bool] | None = None) -> None:
        """Dispatch messages and timers until :meth:`stop` or no queue is consumed, or raise on a lost connection.

        While ``busy()`` says work handed to another thread is unfinished, the connection is served anyway:
        that work publishes and acks through it (``add_callback_threadsafe``).
        """
        connection = self.channel.connection
        while (self._consumers and not self._stop_requested) or (busy is not None and busy()):
            _serve(connection)
        if self._stop_requested:
            for consumer_tag in list(self._consumers):
                self.cancel(consumer_tag)

    def process_events(self, seconds: float) -> None:
        """Service the connection (heartbeats, timers) for a while."""
        try:
            # pika takes float seconds; its stubs say int.
            self.channel.connection.process_data_events(time_limit=seconds)  # type: ignore[arg-type]
        except AMQPError as error:
            raise lost(error) from None

    def stop(self) -> None:
        """Stop :meth:`run`; safe to call from another thread or a signal handler."""
        connection = self._connection
        if connection is not None and connection.is_open:
            connection.add_callback_threadsafe(self._request_stop)
        else:
            self._stop_requested = True

    def _request_stop(self) -> None:
        self._stop_requested = True

    def _on_returned(self, channel: object, method: Basic.Return, properties: BasicProperties, body: bytes) -> None:
        self._returned.append((str(method.routing_key), properties.message_id))
