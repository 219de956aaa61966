"""The one place that speaks AMQP (pika): connections, topology, confirms, acks.

Every publish is persistent, ``mandatory`` and confirmed by the broker; an
unroutable or nacked message raises :class:`PublishError` instead of
vanishing. A connection and its channel belong to the thread that opened it.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import (
    AMQPChannelError,
    AMQPConnectionError,
    AMQPError,
    NackError,
    ProbableAccessDeniedError,
    ProbableAuthenticationError,
    UnroutableError,
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

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
BLOCKED_TIMEOUT_SECONDS = 60
CONNECT_ATTEMPTS = 1
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


@dataclass(frozen=True)
class IncomingMessage:
    """A delivered message, as the runner sees it."""

    body: bytes
    routing_key: str
    delivery_tag: int
    headers: Mapping[str, Any]
    message_id: str | None
    redelivered: bool


MessageCallback = Callable[[IncomingMessage], None]


def _incoming(method: Basic.Deliver | Basic.GetOk, properties: BasicProperties, body: bytes) -> IncomingMessage:
    return IncomingMessage(
        body=body,
        routing_key=method.routing_key or '',
        delivery_tag=method.delivery_tag or 0,
        headers=properties.headers or {},
        message_id=properties.message_id,
        redelivered=bool(method.redelivered),
    )


def _dispatch(
    callback: MessageCallback,
    channel: BlockingChannel,
    method: Basic.Deliver,
    properties: BasicProperties,
    body: bytes,
) -> None:
    callback(_incoming(method, properties, body))


class BrokerConnection:
    """A blocking connection with one confirming channel."""

    def __init__(self, url: str, connection_name: str, heartbeat: int = HEARTBEAT_SECONDS) -> None:
        """Remember where to connect; :meth:`open` connects."""
        self.url = url
        self._connection_parameters = pika.URLParameters(url)
        self._connection_parameters.heartbeat = heartbeat
        self._connection_parameters.blocked_connection_timeout = BLOCKED_TIMEOUT_SECONDS
        self._connection_parameters.connection_attempts = CONNECT_ATTEMPTS
        self._connection_parameters.client_properties = {'connection_name': connection_name}
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    @property
    def is_open(self) -> bool:
        """Whether the connection and channel are usable."""
        if self._connection is None or self._channel is None:
            return False
        return bool(self._connection.is_open and self._channel.is_open)

    def open(self) -> None:
        """Connect and open a channel in confirm mode, or raise :class:`BrokerUnavailableError`."""
        try:
            self._connection = pika.BlockingConnection(self._connection_parameters)
        except AMQPConnectionError as error:
            raise unavailable(self.url, error) from None
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()

    def close(self) -> None:
        """Close quietly; the connection may already be gone."""
        connection = self._connection
        self._connection = None
        self._channel = None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (AMQPConnectionError, AMQPChannelError, OSError) as error:
                logger.debug('closing the broker connection failed: %s', error)

    @property
    def channel(self) -> BlockingChannel:
        """The open channel (opening the connection on first use)."""
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
        """Publish a persistent message and wait for the broker's confirm.

        A mapping is sent as JSON; bytes are sent as they are (a poison message stays as it was).
        """
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False, separators=(',', ':')).encode()
        properties = BasicProperties(
            content_type='application/json',
            delivery_mode=PERSISTENT,
            message_id=message_id,
            headers=dict(headers or {}),
            timestamp=int(time.time()),
        )
        try:
            self.channel.basic_publish(exchange, routing_key, body, properties, mandatory=True)
        except UnroutableError:
            raise PublishError('no queue is bound for routing key {0!r}'.format(routing_key)) from None
        except NackError:
            raise PublishError('RabbitMQ refused message {0} (queue full?)'.format(message_id)) from None
        except AMQPError as error:
            raise lost(error) from None

    def consume(self, queue: str, callback: MessageCallback, prefetch: int) -> str:
        """Start consuming a queue with manual acks (the callback must ack); the consumer tag."""
        channel = self.channel
        channel.basic_qos(prefetch_count=prefetch)
        return str(channel.basic_consume(queue, partial(_dispatch, callback), auto_ack=False))

    def cancel(self, consumer_tag: str) -> None:
        """Stop one consumer (``basic_cancel``); its prefetched, unstarted messages go back to the queue."""
        try:
            self.channel.basic_cancel(consumer_tag)
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
        channel.basic_consume(queue, partial(_dispatch, callback), auto_ack=False)
        return queue

    def ack(self, delivery_tag: int) -> None:
        """Acknowledge a message: its work is committed and its successors confirmed."""
        try:
            self.channel.basic_ack(delivery_tag)
        except AMQPError as error:
            raise lost(error) from None

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

    def run(self) -> None:
        """Dispatch messages and timers until :meth:`stop`, or :class:`BrokerConnectionLostError`."""
        try:
            self.channel.start_consuming()
        except AMQPError as error:
            raise lost(error) from None

    def process_events(self, seconds: float) -> None:
        """Service the connection (heartbeats, confirms, timers) for a while."""
        try:
            # pika takes float seconds; its stubs say int.
            self.channel.connection.process_data_events(time_limit=seconds)  # type: ignore[arg-type]
        except AMQPError as error:
            raise lost(error) from None

    def stop(self) -> None:
        """Stop :meth:`run`; safe to call from another thread or a signal handler."""
        connection = self._connection
        channel = self._channel
        if connection is not None and channel is not None and connection.is_open:
            connection.add_callback_threadsafe(channel.stop_consuming)
