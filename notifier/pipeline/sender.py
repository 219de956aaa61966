"""The sender: hands rendered messages to their channels, at most once per delivery.

A batch is sent in chunks (``NOTIFIER_SEND_CHUNK``, 10): each chunk's
deliveries are claimed with one atomic compare-and-set (``pending`` or an
expired ``sending`` -> ``sending``), sent, and their answers committed with
the next chunk's claim, before its first send (one commit per chunk). So two copies of the same message, in one consumer
or in two, never both reach the provider, and the window where the provider
accepted a mail and the process died before its row said ``sent`` is at most
one chunk wide (``docs/guarantees.md``; the email ``Message-ID`` lets the
receiving side drop those copies).

The claim's ``sending_since`` is its fence: the answer is written only where
the row still holds this claim, so a sender whose lease expired and was taken
over can never overwrite what the new holder recorded. The lease also bounds
the whole chunk: a mail is begun only in the first half of its claim's lease,
and what was not begun is given back (``notifier.pipeline.send_lease``).
"""

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from notifier.faults import crash_point
from notifier.models import DeliveryState
from notifier.observability.deliveries import observe_completions
from notifier.pipeline.context import StageContext
from notifier.pipeline.delivery_rows import OptOutCheck, claim, claimable, skip_opted_out, states_of
from notifier.pipeline.messages import ChannelMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, PoisonMessageError, Retry
from notifier.pipeline.send_jobs import Job, SentChunk
from notifier.pipeline.send_records import answers_of, committed, write_answers
from notifier.pipeline.send_runs import send_claimed

CHANNEL_MESSAGE = ChannelMessageSchema


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
    _send_in_chunks(context, sendable, outcomes)
    return outcomes


def _chunks(jobs: Sequence[Job], size: int) -> Iterator[Sequence[Job]]:
    for start in range(0, len(jobs), max(1, size)):
        yield jobs[start:start + max(1, size)]


def _send_in_chunks(context: StageContext, jobs: Sequence[Job], outcomes: list[Outcome]) -> None:
    """Claim a chunk, send what this call claimed; its answers are written with the next chunk's claim.

    A chunk's answers commit before the next chunk's first send, so the window of mails that are out
    but not recorded stays one chunk wide, at one commit per chunk.
    """
    opt_out_checks = [job.opt_out_check() for job in jobs if job.message['category'] is not None]
    previous: SentChunk | None = None
    for chunk in _chunks(jobs, context.send_chunk):
        claimed_at = context.clock()
        claimed = committed(
            context, partial(_record_and_claim, context, previous, opt_out_checks, chunk, claimed_at),
            'recording a chunk and claiming the next',
        )
        _finish(context, previous, outcomes)
        opt_out_checks = []
        previous = None
        _unclaimed(context, [unclaimed for unclaimed in chunk if unclaimed.delivery_id not in claimed], outcomes)
        if claimed:
            crash_point('sender.after_claim')
            sent_jobs = send_claimed(context, chunk, claimed, claimed_at, outcomes)
            previous = SentChunk(sent_jobs, answers_of(context, [answer for _, answer in sent_jobs], claimed_at))
    if previous is not None:
        committed(context, partial(write_answers, context, previous.answers), 'recording a chunk')
        _finish(context, previous, outcomes)


def _record_and_claim(
    context: StageContext, previous: SentChunk | None, checks: Sequence[OptOutCheck],
    chunk: Sequence[Job], claimed_at: dt.datetime,
) -> set[str]:
    """One transaction: the previous chunk's answers, the batch's opt-outs (first chunk), this chunk's claim."""
    write_answers(context, previous.answers if previous is not None else None)
    skip_opted_out(context.session, checks)
    where = claimable(claimed_at, context.sending_lease_seconds, context.replayed)
    return claim(context.session, [job.delivery_id for job in chunk], claimed_at, where)


def _finish(context: StageContext, written: SentChunk | None, outcomes: list[Outcome]) -> None:
    """The outcomes of a chunk whose answers are committed, and what the metrics count of them."""
    if written is None:
        return
    completions = []
    for sent_job, _ in written.jobs:
        decision = written.answers.decisions[sent_job.delivery_id]
        outcomes[sent_job.index] = decision
        completions.append(sent_job.completion(decision))
    observe_completions(completions, context.clock())


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
