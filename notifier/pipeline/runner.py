"""The consumer runner: takes a batch of messages from a queue, calls a stage, acts on the outcomes.

The order is always: the stage commits the batch's work, the runner publishes
everything the batch forwards (one wait for the broker), and only then acks
the batch (one ``multiple`` ack). A batch runs on the process's stage thread;
its publishes and its ack are made on the connection's thread, each waited
for (``notifier.pipeline.stage_thread``). A crash anywhere in between redelivers the
batch; the stages make the second pass harmless.

Each message has its own outcome: a poison message is parked alone and a
failing one retried alone, the rest go on. A stage that raises for the whole
batch is run again one message at a time, so the culprit is found and the
others still pass.

Stages a process runs one after the other are *chained* (decision 15): what a
stage forwards to a queue that a stage of this same process reads is handed
to that stage at once, in the same batch, instead of a publish, a delivery
and an ack. Retries and parks of a chained message go through the queue it
would have taken, as if it had been delivered.

Every log line carries the stage and, when the batch has one, the request id
and notification id; every message a stage forwards carries the request id
of the message it came from.
"""

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from notifier.constants import ATTEMPT_HEADER, DELAY_TIER_HEADER, PARK_REASON_HEADER, PARKED_BY_HEADER
from notifier.faults import crash_point
from notifier.observability import metrics
from notifier.pipeline import topology
from notifier.pipeline.batch_messages import AfterPublish, BatchMessage, Plan, bound_to
from notifier.pipeline.envelopes import IncomingMessage, OutgoingMessage
from notifier.pipeline.broker_errors import PublishError
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park, PoisonMessageError, Retry
from notifier.pipeline.stage_calls import BatchStage, Body, error_outcome

logger = logging.getLogger(__name__)

#: Builds a stage's context from the attempt number and whether the message is a replay.
ContextFactory = Callable[[int, bool], StageContext]

ORIGINAL_ROUTING_KEY_HEADER = 'x-notifier-original-routing-key'
MAX_REASON_LENGTH = 1000
#: Messages of a batch the INFO line names.
NAMED_IN_LOG = 3


@dataclass(frozen=True)
class ChainTarget:
    """A stage of this process that takes a routing key's messages directly, while ``accepts()`` says so."""

    runner: 'StageRunner'
    accepts: Callable[[], bool]


class Publisher(Protocol):
    """What a batch does with the broker: publish (durable on return) and ack (``StageThread``, or the broker)."""

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish with one wait; raise ``PublishError`` for what could not be routed."""

    def ack_all(self, messages: Iterable[IncomingMessage]) -> None:
        """Ack the messages, one ``multiple`` ack per channel."""


@dataclass(frozen=True)
class StageWiring:
    """What every stage runner of a process shares."""

    app: Flask
    broker: Publisher
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
        messages = [BatchMessage.delivered(incoming) for incoming in batch]
        crash_point('{0}.before_stage'.format(self._stage_name))
        # The app context's teardown ends the database session: what the stage did not commit is dropped,
        # and a connection PostgreSQL terminated meanwhile is discarded instead of raising out of pika's callback.
        with self._app.app_context():
            plan = self.plan(messages)
            crash_point('{0}.before_forward'.format(self._stage_name))
            self._carry_out(plan, messages)
        crash_point('{0}.before_ack'.format(self._stage_name))
        self._broker.ack_all(batch)

    def plan(self, messages: Sequence[BatchMessage]) -> Plan:
        """Run the stage over the messages (and chained stages over what it forwards); what to publish."""
        plan = Plan()
        chained: dict[StageRunner, list[BatchMessage]] = {}
        with bound_to(messages, self._stage_name):
            for handled, outcome in zip(messages, self._timed_outcomes(messages)):
                self._add(plan, chained, handled, outcome)
            named = sorted({str(message.message_id) for message in messages})[:NAMED_IN_LOG]
            logger.info(
                '%s: handled %d message(s) (%s), forwarded %d',
                self._stage_name, len(messages), ', '.join(named), plan.forwarded,
            )
        for runner, runner_messages in chained.items():
            plan.extend(runner.plan(runner_messages))
        return plan

    def _timed_outcomes(self, messages: Sequence[BatchMessage]) -> list[Outcome]:
        started = time.monotonic()
        outcomes = self._outcomes(messages)
        share = (time.monotonic() - started) / len(messages)
        observed = metrics.stage_seconds.labels(stage=self._stage_name)
        for _ in messages:
            observed.observe(share)  # each message's share of its batch
        metrics.messages_consumed.labels(stage=self._stage_name).inc(len(messages))
        return outcomes

    def _outcomes(self, messages: Sequence[BatchMessage]) -> list[Outcome]:
        """The outcome of each message; the stage sees the decodable ones, grouped by attempt and replay."""
        outcomes: dict[int, Outcome] = {}
        groups: dict[tuple[int, bool], list[int]] = {}
        for index, message in enumerate(messages):
            if isinstance(message.body, PoisonMessageError):
                outcomes[index] = Park(str(message.body))
            else:
                groups.setdefault((message.attempt, message.replayed), []).append(index)
        for (attempt, replayed), indexes in groups.items():
            bodies = [messages[position].body for position in indexes]
            outcomes.update(zip(indexes, self._run(bodies, attempt, replayed)))  # type: ignore[arg-type]
        return [outcomes[position] for position in range(len(messages))]

    def _run(self, bodies: Sequence[Body], attempt: int, replayed: bool) -> list[Outcome]:
        """The stage over the batch; if it raises, over each message alone (the culprit is retried alone)."""
        try:
            return self._stage(bodies, self._make_context(attempt, replayed))
        except Exception as error:  # noqa: B902 - the batch falls back to one message at a time
            outcome = error_outcome(error)  # logged, the session discarded
            if len(bodies) == 1:
                return [outcome]
            logger.warning('%s: the batch of %d failed, handling each alone', self._stage_name, len(bodies))
        return [self._run_alone(body, attempt, replayed) for body in bodies]

    def _run_alone(self, body: Body, attempt: int, replayed: bool) -> Outcome:
        try:
            return self._stage([body], self._make_context(attempt, replayed))[0]
        except Exception as error:  # noqa: B902 - the one that fails is retried or parked alone
            return error_outcome(error)

    def _add(
        self, plan: Plan, chained: dict['StageRunner', list[BatchMessage]], message: BatchMessage, outcome: Outcome,
    ) -> None:
        if not isinstance(outcome, Done):
            plan.publish.append(self._retry_or_park(message, outcome))
            return
        try:
            forwards = list(outcome.forward)  # a lazy expansion does its reads and skips here
        except Exception as error:  # noqa: B902 - an error while expanding retries the message
            plan.publish.append(self._retry_or_park(message, error_outcome(error)))
            return
        self._route(plan, chained, message, forwards)
        if outcome.then is not None:
            plan.then.append(AfterPublish(outcome.then, message))

    def _route(
        self,
        plan: Plan,
        chained: dict['StageRunner', list[BatchMessage]],
        message: BatchMessage,
        forwards: Iterable[Forward],
    ) -> None:
        for forward in forwards:
            plan.forwarded += 1
            target = self.chained.get(forward.routing_key)
            if target is None or not target.accepts():
                plan.publish.append(message.forwarded(forward))
            else:
                chained.setdefault(target.runner, []).append(BatchMessage.chained(forward, message))

    def _carry_out(self, plan: Plan, messages: Sequence[BatchMessage]) -> None:
        """Publish the plan; then what runs after it (a mailing's checkpoint) and what that forwards."""
        try:
            self._broker.publish_many(plan.publish)
            if plan.then:
                crash_point('{0}.after_publish'.format(self._stage_name))  # a page out, its checkpoint not moved
            for after in plan.then:
                self._broker.publish_many([after.message.forwarded(forward) for forward in after.run()])
        except PublishError as error:
            # Some of what the batch forwards could not be routed: every message of the batch is retried
            # (or parked); the second pass finds its work done and forwards again.
            logger.error('%s: publishing failed, retrying the batch: %s', self._stage_name, error)
            retry = Retry('publishing failed: {0}'.format(error))
            self._broker.publish_many([self._retry_or_park(message, retry) for message in messages])

    def _retry_or_park(self, message: BatchMessage, outcome: Retry | Park) -> OutgoingMessage:
        attempt = message.attempt
        if isinstance(outcome, Retry) and (attempt < self.max_attempts or not outcome.spends_attempt):
            return self._retry(message, outcome, attempt)
        reason = outcome.reason if isinstance(outcome, Park) else 'gave up after {0} attempts: {1}'.format(
            attempt, outcome.reason,
        )
        logger.warning('%s: parking message %s: %s', self._stage_name, message.message_id, reason)
        metrics.messages_parked.labels(stage=self._stage_name).inc()
        headers = {
            **message.headers_again(),
            ATTEMPT_HEADER: attempt,
            PARK_REASON_HEADER: reason[:MAX_REASON_LENGTH],
            PARKED_BY_HEADER: self._stage_name,
            ORIGINAL_ROUTING_KEY_HEADER: message.routing_key,
        }
        return OutgoingMessage(topology.PARKING_LOT, message.wire(), message.message_id, headers)

    def _retry(self, message: BatchMessage, outcome: Retry, attempt: int) -> OutgoingMessage:
        delay = self._retry_delays[min(attempt, len(self._retry_delays)) - 1]
        logger.info(
            '%s: retrying message %s in %ss (attempt %d): %s',
            self._stage_name, message.message_id, delay, attempt, outcome.reason,
        )
        metrics.messages_retried.labels(stage=self._stage_name).inc()
        spent = attempt if outcome.spends_attempt else attempt - 1
        headers = {
            **message.headers_again(),
            ATTEMPT_HEADER: spent,
            DELAY_TIER_HEADER: str(delay),
        }
        retried = message.wire()
        return OutgoingMessage(message.routing_key, retried, message.message_id, headers, topology.RETRY_EXCHANGE)
