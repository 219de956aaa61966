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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from notifier.channels.base import Channel, OutgoingMessage, SendResult
from notifier.faults import crash_point
from notifier.models import DeliveryState
from notifier.observability.deliveries import Completion, observe_completions, timed_send
from notifier.pipeline.context import StageContext
from notifier.pipeline.delivery_rows import OptOutCheck, claim, claimable, skip_opted_out, states_of
from notifier.pipeline.messages import ChannelMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, PoisonMessageError, Retry
from notifier.pipeline.send_records import Answer, record
from notifier.preferences.subjects import Recipient
from notifier.ratelimit import send_limits

CHANNEL_MESSAGE = ChannelMessageSchema()
DELIVERY_ID = 'delivery_id'


@dataclass(frozen=True, eq=False)
class Job:
    """One channel message of a batch."""

    index: int
    message: Mapping[str, Any]

    @property
    def delivery_id(self) -> str:
        """The delivery it sends."""
        return str(self.message[DELIVERY_ID])

    @property
    def channel(self) -> str:
        """The channel it goes through."""
        return str(self.message['channel'])

    def completion(self, decision: Outcome) -> Completion:
        """What the metrics count of its end."""
        message = self.message
        return Completion(self.channel, decision, message['accepted_at'], message['urgency'], message['scale'])

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


#: A job that was sent, and the channel's answer.
SentJob = tuple[Job, Answer]


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
    sendable = []
    for loaded in jobs:
        if loaded.channel in context.channels:
            sendable.append(loaded)
        else:
            outcomes[loaded.index] = Park('no installed plugin provides channel {0!r}'.format(loaded.channel))
    for chunk in _chunks(sendable, context.send_chunk):
        _send_chunk(context, chunk, outcomes)
    return outcomes


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), max(1, size)):
        yield jobs[start:start + max(1, size)]


def _send_chunk(context: StageContext, chunk: Sequence[Job], outcomes: list[Outcome]) -> None:
    """Claim the chunk, send what this call claimed, record the answers; the others' outcomes from their rows."""
    claimed, claimed_at = _claim(context, chunk)
    _unclaimed(context, [unclaimed for unclaimed in chunk if unclaimed.delivery_id not in claimed], outcomes)
    if not claimed:
        return
    crash_point('sender.after_claim')
    sent_jobs = _send_claimed(context, chunk, claimed)
    decisions = record(context, [answer for _, answer in sent_jobs], claimed_at)
    completions = []
    for sent_job, _ in sent_jobs:
        decision = decisions[sent_job.delivery_id]
        outcomes[sent_job.index] = decision
        completions.append(sent_job.completion(decision))
    observe_completions(completions, context.clock())


def _send_claimed(context: StageContext, chunk: Sequence[Job], claimed: set[str]) -> list[SentJob]:
    """Send each claimed delivery once (a second copy of a message in the chunk is Done, not sent)."""
    sent = []
    for job in chunk:
        if job.delivery_id in claimed:
            claimed.discard(job.delivery_id)
            sent.append((job, Answer(job.delivery_id, _send_one(context, job))))
            crash_point('sender.after_send')
    return sent


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
