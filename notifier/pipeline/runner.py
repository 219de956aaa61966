"""The consumer runner: takes a message from the broker, calls a stage, acts on the outcome.

The order is always: the stage commits its work, the runner publishes what
comes next (confirmed), and only then acks. A crash anywhere in between
redelivers the message; the stages make the second pass harmless.

Every log line while a message is handled carries its request id (from the
message's headers), notification id, delivery id and the stage; every message
the stage forwards carries the same request id. Each message is counted as
consumed, and as retried or parked when it is.
"""

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from notifier.constants import (
    ATTEMPT_HEADER,
    DELAY_TIER_HEADER,
    PARK_REASON_HEADER,
    PARKED_BY_HEADER,
    REPLAY_HEADER,
)
from notifier.extensions import discard_session
from notifier.faults import crash_point
from notifier.observability import log_context, metrics
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection, IncomingMessage
from notifier.pipeline.broker_errors import BrokerError
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Outcome, Park, PoisonMessageError, Retry

logger = logging.getLogger(__name__)

Stage = Callable[[Mapping[str, Any], StageContext], Outcome]
#: Builds a stage's context from the attempt number and whether the message is a replay.
ContextFactory = Callable[[int, bool], StageContext]

ORIGINAL_ROUTING_KEY_HEADER = 'x-notifier-original-routing-key'
MAX_REASON_LENGTH = 1000
#: The ids of a message body that every log line of its handling shows.
LOGGED_IDS = ('notification_id', 'delivery_id')


def decode_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a message, or :class:`PoisonMessageError`."""
    try:
        decoded = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PoisonMessageError('message is not JSON: {0}'.format(error)) from None
    if not isinstance(decoded, dict):
        raise PoisonMessageError('message is JSON but not an object')
    return decoded


#: A message's JSON object, or why it has none (raised when the stage runs, so the message is parked).
Decoded = dict[str, Any] | PoisonMessageError


def _decoded(raw: bytes) -> Decoded:
    """The body, decoded once per message (for the log context and for the stage)."""
    try:
        return decode_body(raw)
    except PoisonMessageError as error:
        return error


def _logged_ids(body: Decoded) -> dict[str, str | None]:
    """The notification and delivery ids of a body, when it has them and they are safe to log."""
    if isinstance(body, PoisonMessageError):
        return {}
    return {name: log_context.clean_id(body.get(name)) for name in LOGGED_IDS}


def _request_headers() -> dict[str, str]:
    """The headers that carry the request id bound now to the next stage."""
    request_id = log_context.current_request_id()
    return {log_context.REQUEST_ID_HEADER: request_id} if request_id else {}


@dataclass(frozen=True)
class StageWiring:
    """What every stage runner of a process shares."""

    app: Flask
    broker: BrokerConnection
    make_context: ContextFactory
    retry_delays: Sequence[int]


class StageRunner:
    """Runs one stage for the messages of its queue."""

    def __init__(self, wiring: StageWiring, stage_name: str, stage: Stage) -> None:
        """Bind a stage to a broker connection and the app whose database it uses."""
        self._app = wiring.app
        self._broker = wiring.broker
        self._make_context = wiring.make_context
        self._retry_delays = tuple(wiring.retry_delays)
        self._stage_name = stage_name
        self._stage = stage

    @property
    def max_attempts(self) -> int:
        """The first attempt plus one per retry tier."""
        return len(self._retry_delays) + 1

    def on_message(self, incoming: IncomingMessage) -> None:
        """Process one message and ack it once its outcome is durable; log and count it."""
        request_id = log_context.clean_id(incoming.headers.get(log_context.REQUEST_ID_HEADER))
        body = _decoded(incoming.body)
        logged = log_context.bound(
            request_id=request_id or log_context.new_request_id(),
            stage=self._stage_name,
            **_logged_ids(body),
        )
        with logged:
            metrics.messages_consumed.labels(stage=self._stage_name).inc()
            with metrics.stage_seconds.labels(stage=self._stage_name).time():
                self._process(incoming, body)

    def _process(self, incoming: IncomingMessage, body: Decoded) -> None:
        attempt = int(incoming.headers.get(ATTEMPT_HEADER, 0)) + 1
        crash_point('{0}.before_stage'.format(self._stage_name))
        # The app context's teardown ends the database session (``end_session``): what the stage did not
        # commit is dropped, and a connection PostgreSQL terminated meanwhile is discarded instead of
        # raising out of this pika callback (which made the process exit).
        with self._app.app_context():
            outcome = self._guarded(incoming, lambda: self._run_stage(incoming, body, attempt))
            crash_point('{0}.before_forward'.format(self._stage_name))
            if isinstance(outcome, Done):
                done = outcome
                outcome = self._guarded(incoming, lambda: self._publish_all(incoming, done))
            if not isinstance(outcome, Done):
                self._retry_or_park(incoming, outcome, attempt)
        crash_point('{0}.before_ack'.format(self._stage_name))
        self._broker.ack(incoming.delivery_tag)

    def _run_stage(self, incoming: IncomingMessage, body: Decoded, attempt: int) -> Outcome:
        if isinstance(body, PoisonMessageError):
            raise body
        replayed = bool(incoming.headers.get(REPLAY_HEADER))
        return self._stage(body, self._make_context(attempt, replayed))

    def _publish_all(self, incoming: IncomingMessage, done: Done) -> Outcome:
        """Publish what the stage forwards; a lazy iterator does its work between publishes."""
        request_headers = _request_headers()
        forwarded = 0
        for forward in done.forward:
            headers = {**request_headers, **forward.headers}
            self._broker.publish(forward.routing_key, forward.body, forward.message_id, headers)
            forwarded += 1
        logger.info('%s: handled message %s, forwarded %d', self._stage_name, incoming.message_id, forwarded)
        return Done()

    def _guarded(self, incoming: IncomingMessage, action: Callable[[], Outcome]) -> Outcome:
        """Run stage code; its errors become outcomes (a broken broker connection stays an error)."""
        try:
            return action()
        except BrokerError:
            raise
        except Exception as error:  # noqa: B902 - any bug must retry, then park; never be acked away
            return self._as_outcome(incoming, error)

    def _as_outcome(self, incoming: IncomingMessage, error: Exception) -> Outcome:
        if isinstance(error, PoisonMessageError):
            return Park(str(error))
        discard_session()
        if isinstance(error, SQLAlchemyError):
            logger.warning('%s: database error, will retry: %s', self._stage_name, error)
            return Retry('database error: {0}'.format(type(error).__name__))
        logger.error(
            '%s: unexpected error on message %s', self._stage_name, incoming.message_id, exc_info=error,
        )
        return Retry('unexpected error: {0}: {1}'.format(type(error).__name__, error))

    def _retry_or_park(self, incoming: IncomingMessage, outcome: Retry | Park, attempt: int) -> None:
        if isinstance(outcome, Retry) and attempt < self.max_attempts:
            delay = self._retry_delays[attempt - 1]
            logger.info(
                '%s: retrying message %s in %ss (attempt %d): %s',
                self._stage_name, incoming.message_id, delay, attempt, outcome.reason,
            )
            headers = {
                **incoming.headers, **_request_headers(), ATTEMPT_HEADER: attempt, DELAY_TIER_HEADER: str(delay),
            }
            self._broker.publish(
                incoming.routing_key, incoming.body, incoming.message_id, headers, topology.RETRY_EXCHANGE,
            )
            metrics.messages_retried.labels(stage=self._stage_name).inc()
        else:
            reason = outcome.reason if isinstance(outcome, Park) else 'gave up after {0} attempts: {1}'.format(
                attempt, outcome.reason,
            )
            self._park(incoming, reason, attempt)

    def _park(self, incoming: IncomingMessage, reason: str, attempt: int) -> None:
        logger.warning('%s: parking message %s: %s', self._stage_name, incoming.message_id, reason)
        headers = {
            **incoming.headers,
            **_request_headers(),
            ATTEMPT_HEADER: attempt,
            PARK_REASON_HEADER: reason[:MAX_REASON_LENGTH],
            PARKED_BY_HEADER: self._stage_name,
            ORIGINAL_ROUTING_KEY_HEADER: incoming.routing_key,
        }
        self._broker.publish(topology.PARKING_LOT, incoming.body, incoming.message_id, headers)
        metrics.messages_parked.labels(stage=self._stage_name).inc()
