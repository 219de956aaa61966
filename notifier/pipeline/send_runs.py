"""Sending a claimed chunk: each run of one channel's deliveries handed to the channel together.

A channel gets a run through ``send_many`` and asks before each send whether
it may begin (:class:`_NextSend`): the send's rate-limit grants first, then the
claim's lease (``notifier.pipeline.send_lease``). The email channel pipelines
a run over its SMTP connection (a mail's body in one write with the next
one's envelope), so a mail costs one round trip to the server. What the lease
no longer let begin is given back unsent.
"""

import datetime as dt
from collections.abc import Iterator, Sequence

from notifier.channels.base import Channel, SendResult
from notifier.faults import crash_point
from notifier.observability.deliveries import timed_sends
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Outcome
from notifier.pipeline.send_jobs import Job, SentJob
from notifier.pipeline.send_lease import give_back, may_begin, not_begun
from notifier.pipeline.send_records import Answer
from notifier.ratelimit import send_limits


def send_claimed(
    context: StageContext,
    chunk: Sequence[Job],
    claimed: set[str],
    claimed_at: dt.datetime,
    outcomes: list[Outcome],
) -> list[SentJob]:
    """Send each claimed delivery once (a second copy of a message in the chunk is Done, not sent).

    A run of one channel's deliveries goes to the channel together (``send_many``: the email channel
    pipelines it over its SMTP connection); each is begun only after its rate-limit grant and while the
    claim's lease lets it begin. What was not begun is given back unsent, its outcome a wait.
    """
    to_send = []
    for job in chunk:
        if job.delivery_id in claimed:
            claimed.discard(job.delivery_id)
            to_send.append(job)
    sent: list[SentJob] = []
    position = 0
    for channel_run in _runs_of_one_channel(to_send):
        answers = _send_run(context, channel_run, claimed_at)
        for job, answer in zip(channel_run, answers):
            sent.append((job, Answer(job.delivery_id, answer)))
            crash_point('sender.after_send')
        position += len(channel_run)
        if len(answers) < len(channel_run):
            late = [*channel_run[len(answers):], *to_send[position:]]
            _give_back(context, late, claimed_at, outcomes)
            break
    return sent


def _give_back(context: StageContext, late: Sequence[Job], claimed_at: dt.datetime, outcomes: list[Outcome]) -> None:
    """Claimed deliveries the lease no longer let begin: pending again, their messages wait."""
    give_back(context, [late_job.delivery_id for late_job in late], claimed_at)
    for late_job in late:
        outcomes[late_job.index] = not_begun(late_job.delivery_id)


def _runs_of_one_channel(jobs: Sequence[Job]) -> Iterator[list[Job]]:
    """The jobs in order, cut where the channel changes."""
    run: list[Job] = []
    for job in jobs:
        if run and run[-1].channel != job.channel:
            yield run
            run = []
        run.append(job)
    if run:
        yield run


def _send_run(context: StageContext, jobs: Sequence[Job], claimed_at: dt.datetime) -> Sequence[SendResult]:
    """The channel's answers to the jobs it began (all of one channel), in order."""
    channel: Channel = context.channels[jobs[0].channel]
    outgoing = [job.outgoing() for job in jobs]
    next_one = _NextSend(context, jobs, claimed_at)
    return timed_sends(jobs[0].channel, lambda: channel.send_many(outgoing, next_one.may_begin))


class _NextSend:
    """Asked by the channel before each send: that send's rate-limit grants, then whether the lease lets it begin."""

    def __init__(self, context: StageContext, jobs: Sequence[Job], claimed_at: dt.datetime) -> None:
        self._context = context
        self._upcoming = iter(jobs)
        self._claimed_at = claimed_at

    def may_begin(self) -> bool:
        job = next(self._upcoming)
        limiter = self._context.limiter
        if limiter is not None:
            limiter.acquire_all(send_limits(job.channel, job.message['email']))
        return may_begin(self._context, self._claimed_at)
