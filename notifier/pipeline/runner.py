"""The consumer runner: takes a batch of messages from a queue, calls a stage, acts on the outcomes.

The order is always: the stage commits the batch's work, the runner publishes
everything the batch forwards (one wait for the broker), and only then acks
the batch (one ``multiple`` ack). A crash anywhere in between redelivers the
batch; the stages make the second pass harmless.

A batch is what the queue delivered within a few milliseconds, up to half the
prefetch window. Each message has its own outcome: a poison message is parked
alone and a failing one retried alone, the rest go on. A stage that raises
for the whole batch is run again one message at a time, so the culprit is
found and the others still pass.

Stages a process runs one after the other are *chained* (decision 15): what a
stage forwards to a queue that a stage of this same process reads is handed
to that stage at once, in the same batch, instead of a publish, a delivery
and an ack. Retries and parks of a chained message go through the queue it
would have taken, as if it had been delivered.

Every log line carries the stage and, when the batch has one, the request id
and notification id; every message a stage forwards carries the request id
of the message it came from.
"""

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
from notifier.pipeline.broker import BrokerConnection, IncomingMessage, OutgoingMessage
from notifier.pipeline.broker_errors import PublishError
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park, PoisonMessageError, Retry

logger = logging.getLogger(__name__)

Stage = Callable[[Mapping[str, Any], StageContext], Outcome]
#: A stage over a batch: one outcome per body, in order; a poison body gets a :class:`Park`, not an exception.
BatchStage = Callable[[Sequence[Mapping[str, Any]], StageContext], list[Outcome]]
#: Builds a stage's context from the attempt number and whether the message is a replay.
ContextFactory = Callable[[int, bool], StageContext]

ORIGINAL_ROUTING_KEY_HEADER = 'x-notifier-original-routing-key'
MAX_REASON_LENGTH = 1000
#: The ids of a message body that log lines of its handling show.
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


#: A message's JSON object, or why it has none (it is parked).
Decoded = dict[str, Any] | PoisonMessageError


def _decoded(raw: bytes) -> Decoded:
    try:
        return decode_body(raw)
    except PoisonMessageError as error:
        return error


def attempt_of(headers: Mapping[str, Any]) -> int:
    """This delivery's attempt (1 for the first); a header that is not a small count counts as the first."""
    previous = headers.get(ATTEMPT_HEADER, 0)
    if isinstance(previous, bool) or not isinstance(previous, int) or not 0 <= previous < 1000:
        return 1
    return previous + 1


def per_message(stage: Stage) -> BatchStage:
    """A one-message stage as a batch stage: each message is handled (and committed) on its own."""

    def run_each(bodies: Sequence[Mapping[str, Any]], context: StageContext) -> list[Outcome]:
        return [_guarded_call(stage, body, context) for body in bodies]

    run_each.__name__ = getattr(stage, '__name__', 'stage')
    return run_each


def one_of(batch_stage: BatchStage) -> Stage:
    """A batch stage called for one message (tests and tools call stages this way)."""

    def run_one(body: Mapping[str, Any], context: StageContext) -> Outcome:
        return batch_stage([body], context)[0]

    return run_one


def _guarded_call(stage: Stage, body: Mapping[str, Any], context: StageContext) -> Outcome:
    try:
        return stage(body, context)
    except Exception as error:  # noqa: B902 - any bug must retry, then park; never be acked away
        return error_outcome(error)


def error_outcome(error: Exception) -> Retry | Park:
    """What an error of stage code means for its message: poison is parked, anything else retried."""
    if isinstance(error, PoisonMessageError):
        return Park(str(error))
    discard_session()
    if isinstance(error, SQLAlchemyError):
        logger.warning('database error, will retry: %s', error)
        return Retry('database error: {0}'.format(type(error).__name__))
    logger.error('unexpected error in a stage', exc_info=error)
    return Retry('unexpected error: {0}: {1}'.format(type(error).__name__, error))


@dataclass
class Item:
    """One message of a batch: delivered by the broker, or handed on by a chained stage (``incoming`` None)."""

    routing_key: str
    raw: bytes
    body: Decoded
    headers: Mapping[str, Any]
    message_id: str | None
    incoming: IncomingMessage | None = None

    @property
    def attempt(self) -> int:
        """Which attempt this is."""
        return attempt_of(self.headers)

    @property
    def replayed(self) -> bool:
        """An operator replayed it from the parking lot."""
        return bool(self.headers.get(REPLAY_HEADER))

    @property
    def request_id(self) -> str | None:
        """The request id it carries, if it is safe to log."""
        return log_context.clean_id(self.headers.get(log_context.REQUEST_ID_HEADER))

    @classmethod
    def delivered(cls, incoming: IncomingMessage) -> 'Item':
        """An item of a delivered message (its body decoded once)."""
        return cls(
            routing_key=incoming.routing_key,
            raw=incoming.body,
            body=_decoded(incoming.body),
            headers=incoming.headers,
            message_id=incoming.message_id,
            incoming=incoming,
        )

    @classmethod
    def chained(cls, forward: Forward, parent: 'Item') -> 'Item':
        """An item of a message a chained stage forwarded (never published, unless it must be retried)."""
        request_id = parent.request_id
        headers = {**({log_context.REQUEST_ID_HEADER: request_id} if request_id else {}), **forward.headers}
        return cls(
            routing_key=forward.routing_key,
            raw=json.dumps(forward.body, ensure_ascii=False, separators=(',', ':')).encode(),
            body=dict(forward.body),
            headers=headers,
            message_id=forward.message_id,
        )


@dataclass
class Plan:
    """What a batch leads to: messages to publish, then what runs once they are durable."""

    publish: list[OutgoingMessage] = field(default_factory=list)
    then: list[tuple[Callable[[], Iterable[Forward]], Item]] = field(default_factory=list)
    forwarded: int = 0
    retried: int = 0
    parked: int = 0

    def extend(self, other: 'Plan') -> None:
        """Add a chained stage's plan."""
        self.publish.extend(other.publish)
        self.then.extend(other.then)
        self.forwarded += other.forwarded
        self.retried += other.retried
        self.parked += other.parked


def _forwarded(forward: Forward, parent: Item) -> OutgoingMessage:
    request_id = parent.request_id
    headers = {**({log_context.REQUEST_ID_HEADER: request_id} if request_id else {}), **forward.headers}
    return OutgoingMessage(forward.routing_key, forward.body, forward.message_id, headers)


@dataclass(frozen=True)
class ChainTarget:
    """A stage of this process that takes a routing key's messages directly, while ``accepts()`` says so."""

    runner: 'StageRunner'
    accepts: Callable[[], bool]


@dataclass(frozen=True)
class StageWiring:
    """What every stage runner of a process shares."""

    app: Flask
    broker: BrokerConnection
    make_context: ContextFactory
    retry_delays: Sequence[int]


class StageRunner:
    """Runs one stage for the batches of its queues."""

    def __init__(self, wiring: StageWiring, stage_name: str, stage: BatchStage) -> None:
        """Bind a stage to a broker connection and the app whose database it uses."""
        self._app = wiring.app
        self._broker = wiring.broker
        self._make_context = wiring.make_context
        self._retry_delays = tuple(wiring.retry_delays)
        self._stage_name = stage_name
        self._stage = stage
        #: The runners of this process by the routing key they read: forwards there are chained.
        self.chained: dict[str, ChainTarget] = {}

    @property
    def stage_name(self) -> str:
        """The stage this runner runs."""
        return self._stage_name

    @property
    def max_attempts(self) -> int:
        """The first attempt plus one per retry tier."""
        return len(self._retry_delays) + 1

    def on_message(self, incoming: IncomingMessage) -> None:
        """Process one message as a batch of one."""
        self.on_batch([incoming])

    def on_batch(self, batch: Sequence[IncomingMessage]) -> None:
        """Process a batch of delivered messages and ack them once their outcomes are durable."""
        if not batch:
            return
        items = [Item.delivered(incoming) for incoming in batch]
        crash_point('{0}.before_stage'.format(self._stage_name))
        # The app context's teardown ends the database session: what the stage did not commit is dropped,
        # and a connection PostgreSQL terminated meanwhile is discarded instead of raising out of pika's callback.
        with self._app.app_context():
            plan = self.plan(items)
            crash_point('{0}.before_forward'.format(self._stage_name))
            self._carry_out(plan, items)
        crash_point('{0}.before_ack'.format(self._stage_name))
        self._broker.ack_all(batch)

    def plan(self, items: Sequence[Item]) -> Plan:
        """Run the stage over the items (and chained stages over what it forwards); what to publish."""
        with _bound_to(items, self._stage_name):
            started = time.monotonic()
            outcomes = self._outcomes(items)
            share = (time.monotonic() - started) / len(items)
            observed = metrics.stage_seconds.labels(stage=self._stage_name)
            for _ in items:
                observed.observe(share)  # each message's share of its batch
            plan = Plan()
            chained: dict[StageRunner, list[Item]] = {}
            for item, outcome in zip(items, outcomes):
                self._add(plan, chained, item, outcome)
            metrics.messages_consumed.labels(stage=self._stage_name).inc(len(items))
            self._log(items, plan)
        for runner, runner_items in chained.items():
            plan.extend(runner.plan(runner_items))
        return plan

    def _outcomes(self, items: Sequence[Item]) -> list[Outcome]:
        """The outcome of each item; the stage sees the decodable ones, grouped by attempt and replay."""
        outcomes: list[Outcome | None] = [None] * len(items)
        groups: dict[tuple[int, bool], list[int]] = {}
        for index, item in enumerate(items):
            if isinstance(item.body, PoisonMessageError):
                outcomes[index] = Park(str(item.body))
            else:
                groups.setdefault((item.attempt, item.replayed), []).append(index)
        for (attempt, replayed), indexes in groups.items():
            bodies = [items[index].body for index in indexes]
            for index, outcome in zip(indexes, self._run(bodies, attempt, replayed)):  # type: ignore[arg-type]
                outcomes[index] = outcome
        return [outcome or Park('no outcome') for outcome in outcomes]

    def _run(self, bodies: Sequence[Mapping[str, Any]], attempt: int, replayed: bool) -> list[Outcome]:
        """The stage over the batch; if it raises, over each message alone (the culprit is retried alone)."""
        try:
            return self._stage(bodies, self._make_context(attempt, replayed))
        except Exception as error:  # noqa: B902 - the batch falls back to one message at a time
            if len(bodies) == 1:
                return [error_outcome(error)]
            discard_session()
            logger.warning('%s: batch of %d failed (%s), handling each alone', self._stage_name, len(bodies), error)
        outcomes = []
        for body in bodies:
            try:
                outcomes.extend(self._stage([body], self._make_context(attempt, replayed)))
            except Exception as error:  # noqa: B902 - the one that fails is retried or parked alone
                outcomes.append(error_outcome(error))
        return outcomes

    def _add(self, plan: Plan, chained: dict['StageRunner', list[Item]], item: Item, outcome: Outcome) -> None:
        failure: Retry | Park
        if isinstance(outcome, Done):
            try:
                forwards = list(outcome.forward)  # a lazy expansion does its reads and skips here
            except Exception as error:  # noqa: B902 - an error while expanding retries the message
                failure = error_outcome(error)
            else:
                self._route(plan, chained, item, forwards)
                if outcome.then is not None:
                    plan.then.append((outcome.then, item))
                return
        else:
            failure = outcome
        message = self._retry_or_park(item, failure)
        plan.publish.append(message)
        if message.exchange == topology.RETRY_EXCHANGE:
            plan.retried += 1
        else:
            plan.parked += 1

    def _route(
        self, plan: Plan, chained: dict['StageRunner', list[Item]], item: Item, forwards: Iterable[Forward],
    ) -> None:
        for forward in forwards:
            plan.forwarded += 1
            target = self.chained.get(forward.routing_key)
            if target is None or not target.accepts():
                plan.publish.append(_forwarded(forward, item))
            else:
                chained.setdefault(target.runner, []).append(Item.chained(forward, item))

    def _carry_out(self, plan: Plan, items: Sequence[Item]) -> None:
        """Publish the plan; then what runs after it (a mailing's checkpoint) and what that forwards."""
        try:
            self._broker.publish_many(plan.publish)
            for then, item in plan.then:
                self._broker.publish_many([_forwarded(forward, item) for forward in then()])
        except PublishError as error:
            # Some of what the batch forwards could not be routed: every message of the batch is retried
            # (or parked); the second pass finds its work done and forwards again.
            logger.error('%s: publishing failed, retrying the batch: %s', self._stage_name, error)
            self._broker.publish_many([
                self._retry_or_park(item, Retry('publishing failed: {0}'.format(error)))
                for item in items
            ])

    def _retry_or_park(self, item: Item, outcome: Retry | Park) -> OutgoingMessage:
        attempt = item.attempt
        request = {log_context.REQUEST_ID_HEADER: item.request_id} if item.request_id else {}
        if isinstance(outcome, Retry) and (attempt < self.max_attempts or not outcome.spends_attempt):
            delay = self._retry_delays[min(attempt, len(self._retry_delays)) - 1]
            logger.info(
                '%s: retrying message %s in %ss (attempt %d): %s',
                self._stage_name, item.message_id, delay, attempt, outcome.reason,
            )
            metrics.messages_retried.labels(stage=self._stage_name).inc()
            spent = attempt if outcome.spends_attempt else attempt - 1
            headers = {**item.headers, **request, ATTEMPT_HEADER: spent, DELAY_TIER_HEADER: str(delay)}
            return OutgoingMessage(item.routing_key, item.raw, item.message_id, headers, topology.RETRY_EXCHANGE)
        reason = outcome.reason if isinstance(outcome, Park) else 'gave up after {0} attempts: {1}'.format(
            attempt, outcome.reason,
        )
        logger.warning('%s: parking message %s: %s', self._stage_name, item.message_id, reason)
        metrics.messages_parked.labels(stage=self._stage_name).inc()
        headers = {
            **item.headers,
            **request,
            ATTEMPT_HEADER: attempt,
            PARK_REASON_HEADER: reason[:MAX_REASON_LENGTH],
            PARKED_BY_HEADER: self._stage_name,
            ORIGINAL_ROUTING_KEY_HEADER: item.routing_key,
        }
        return OutgoingMessage(topology.PARKING_LOT, item.raw, item.message_id, headers)

    def _log(self, items: Sequence[Item], plan: Plan) -> None:
        logger.info(
            '%s: handled %d message%s (%s), forwarded %d',
            self._stage_name, len(items), '' if len(items) == 1 else 's',
            ', '.join(sorted({str(item.message_id) for item in items})[:3]), plan.forwarded,
        )


def _common(values: Iterable[str | None]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _bound_to(items: Sequence[Item], stage_name: str) -> Any:
    """The log context of a batch: the stage, and the request and ids its messages share, if they share one."""
    bodies = [item.body for item in items if not isinstance(item.body, PoisonMessageError)]
    ids = {
        name: _common(log_context.clean_id(body.get(name)) for body in bodies) for name in LOGGED_IDS
    }
    request_id = _common(item.request_id for item in items)
    return log_context.bound(request_id=request_id or log_context.new_request_id(), stage=stage_name, **ids)

