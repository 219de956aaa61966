"""The sender: hands rendered messages to their channels, at most once per delivery.

A batch is sent in chunks (``NOTIFIER_SEND_CHUNK``, 10): each chunk's
deliveries are claimed with one atomic compare-and-set (``pending`` or an
expired ``sending`` -> ``sending``), sent, and their answers committed before
the next chunk is claimed. So two copies of the same message, in one consumer
or in two, never both reach the provider, and the window where the provider
accepted a mail and the process died before its row said ``sent`` is at most
one chunk wide (``docs/guarantees.md``; the email ``Message-ID`` lets the
receiving side drop those copies).

The claim's ``sending_since`` is its fence: the answer is written only where
the row still holds this claim, so a sender whose lease expired and was taken
over can never overwrite what the new holder recorded.
"""

import datetime as dt
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exc, update

from notifier.channels.base import Channel, OutgoingMessage, SendResult, SendStatus
from notifier.faults import crash_point
from notifier.models import DeliveryState
from notifier.observability.deliveries import Completion, observe_completions, timed_send
from notifier.pipeline.context import StageContext
from notifier.pipeline.delivery_rows import DELIVERIES, OptOutCheck, claim, claimable, skip_opted_out, states_of
from notifier.pipeline.messages import ChannelMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, PoisonMessageError, Retry
from notifier.preferences.subjects import Recipient
from notifier.ratelimit import send_limits

logger = logging.getLogger(__name__)

#: Writing the answers of a chunk is retried this many times when the database drops the connection:
#: the mails are out, and giving up here is what could make them go out twice.
RECORD_ATTEMPTS = 5
RECORD_RETRY_SECONDS = 0.5
CHANNEL_MESSAGE = ChannelMessageSchema()


@dataclass(frozen=True, eq=False)
class Job:
    """One channel message of a batch."""

    index: int
    message: Mapping[str, Any]

    @property
    def delivery_id(self) -> str:
        """The delivery it sends."""
        return str(self.message['delivery_id'])

    @property
    def channel(self) -> str:
        """The channel it goes through."""
        return str(self.message['channel'])

    def outgoing(self) -> OutgoingMessage:
        """What the channel plugin gets."""
        rendered = self.message['rendered']
        return OutgoingMessage(
            delivery_id=self.delivery_id,
            notification_id=self.message['notification_id'],
            recipient=self.message['email'],
            subject=rendered['subject'],
            html=rendered['html'],
            text=rendered['text'],
            headers=self.message['headers'],
            blocks=rendered['blocks'],
        )


def send(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Send one delivery through its channel, unless it was already sent or is being sent."""
    return send_batch([body], context)[0]


def send_batch(bodies: Sequence[Mapping[str, Any]], context: StageContext) -> list[Outcome]:
    """Send a batch of deliveries, chunk by chunk; one outcome per message."""
    outcomes: list[Outcome] = [Done() for _ in bodies]
    jobs = []
    for index, body in enumerate(bodies):
        try:
            jobs.append(Job(index, load_message(CHANNEL_MESSAGE, body)))
        except PoisonMessageError as error:
            outcomes[index] = Park(str(error))
    for job in jobs:
        if job.channel not in context.channels:
            outcomes[job.index] = Park('no installed plugin provides channel {0!r}'.format(job.channel))
    sendable = [job for job in jobs if job.channel in context.channels]
    for chunk in _chunks(sendable, context.send_chunk):
        _send_chunk(context, chunk, outcomes)
    return outcomes


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), max(1, size)):
        yield jobs[start:start + max(1, size)]


def _send_chunk(context: StageContext, chunk: Sequence[Job], outcomes: list[Outcome]) -> None:
    """Claim the chunk, send what this call claimed, record the answers; the others' outcomes from their rows."""
    claimed, claimed_at = _claim(context, chunk)
    for job in chunk:
        if job.delivery_id not in claimed:
            outcomes[job.index] = Done()
    _unclaimed(context, [job for job in chunk if job.delivery_id not in claimed], outcomes)
    if not claimed:
        return
    crash_point('sender.after_claim')
    results: list[tuple[Job, SendResult]] = []
    for job in chunk:
        if job.delivery_id in claimed:
            claimed.discard(job.delivery_id)  # a second copy of a message in the same chunk is Done, not sent
            results.append((job, _send_one(context, job)))
            crash_point('sender.after_send')
    for job, decision in _record(context, results, claimed_at).items():
        outcomes[job.index] = decision


def _claim(context: StageContext, chunk: Sequence[Job]) -> tuple[set[str], dt.datetime]:
    """Skip the opted out (checked again right before sending), then claim the rest; commit."""
    now = context.clock()
    skip_opted_out(context.session, [
        OptOutCheck(
            job.delivery_id,
            Recipient(user_id=job.message['user_id'], email=job.message['email']),
            job.message['category'],
            job.channel,
        )
        for job in chunk if job.message['category'] is not None  # a message from before categories: the worker checked
    ])
    where = claimable(now, context.sending_lease_seconds, context.replayed)
    claimed = claim(context.session, [job.delivery_id for job in chunk], now, where)
    context.session.commit()
    return claimed, now


def _unclaimed(context: StageContext, jobs: Sequence[Job], outcomes: list[Outcome]) -> None:
    """Deliveries this call did not claim: gone (park), held by a live sender (wait), or done."""
    if not jobs:
        return
    states = states_of(context.session, [job.delivery_id for job in jobs])
    context.session.commit()
    for job in jobs:
        state = states.get(job.delivery_id)
        if state is None:
            outcomes[job.index] = Park('delivery {0} does not exist'.format(job.delivery_id))
        elif state == DeliveryState.sending:
            # Wait for the holder's lease, without spending an attempt: if it died, the row is taken over then.
            reason = 'delivery {0} is being sent by another consumer'.format(job.delivery_id)
            outcomes[job.index] = Retry(reason, spends_attempt=False)


def _send_one(context: StageContext, job: Job) -> SendResult:
    channel: Channel = context.channels[job.channel]
    if context.limiter is not None:
        context.limiter.acquire_all(send_limits(job.channel, job.message['email']))
    return timed_send(job.channel, channel.send, job.outgoing())


def _decision(context: StageContext, result: SendResult) -> tuple[Outcome, dict[str, Any]]:
    """What happens next, and the row's new values."""
    if result.status == SendStatus.sent:
        changes = {'state': DeliveryState.sent, 'sent_at': context.clock(), 'last_error': None,
                   'provider_message_id': result.provider_message_id}
        return Done(), changes
    if result.status == SendStatus.temporary_failure and not context.is_last_attempt:
        return Retry(result.detail), {'state': DeliveryState.pending, 'last_error': result.detail}
    reason = result.detail
    if result.status == SendStatus.temporary_failure:
        reason = 'gave up after {0} attempts: {1}'.format(context.attempt, result.detail)
    return Park(reason), {'state': DeliveryState.failed, 'last_error': result.detail}


def _record(
    context: StageContext, results: Sequence[tuple[Job, SendResult]], claimed_at: dt.datetime,
) -> dict[Job, Outcome]:
    """Write the answers where the rows still hold this claim (one statement per kind), then commit."""
    decisions: dict[Job, Outcome] = {}
    by_kind: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for job, result in results:
        decision, changes = _decision(context, result)
        decisions[job] = decision
        by_kind.setdefault(tuple(sorted(changes)), []).append({**changes, 'delivery_id': job.delivery_id})
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            _write(context, by_kind, claimed_at)
        except exc.OperationalError as error:
            context.session.rollback()
            if attempt == RECORD_ATTEMPTS:
                raise
            logger.warning('recording %d deliveries failed (%s), trying again', len(results), error)
            time.sleep(RECORD_RETRY_SECONDS * attempt)
        else:
            break
    observe_completions(
        (Completion(job.channel, decision, job.message['accepted_at'], job.message['urgency'], job.message['scale'])
         for job, decision in decisions.items()),
        context.clock(),
    )
    return decisions


def _write(context: StageContext, by_kind: Mapping[tuple[str, ...], list[dict[str, Any]]], claimed_at: dt.datetime) -> None:
    for columns, rows in by_kind.items():
        values: dict[str, Any] = {column: bindparam('new_{0}'.format(column)) for column in columns}
        statement = (
            update(DELIVERIES)
            .where(
                DELIVERIES.c.id == bindparam('delivery_id'),
                DELIVERIES.c.state == DeliveryState.sending,
                DELIVERIES.c.sending_since == claimed_at,
            )
            .values(sending_since=None, **values)
        )
        context.session.execute(statement, [
            {'delivery_id': row['delivery_id'], **{'new_{0}'.format(column): row[column] for column in columns}}
            for row in rows
        ])
    context.session.commit()
