"""Writing the answers of a sender's chunk: one statement per kind of answer, fenced by the claim.

A chunk's answers are written in the transaction that claims the next chunk
(or alone after the last one), so a chunk costs one commit.

An answer is written only where the row is still ``sending`` since this
claim's moment: a sender whose lease expired and was taken over by another
cannot overwrite what the new holder recorded.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, exc, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.selectable import TableValuedAlias

from notifier.channels.base import SendResult, SendStatus
from notifier.extensions import discard_session
from notifier.models import DeliveryState
from notifier.models.unnested import unnested_rows
from notifier.pipeline.context import StageContext
from notifier.pipeline.delivery_rows import DELIVERIES
from notifier.pipeline.outcomes import Done, Outcome, Park, Retry

logger = logging.getLogger(__name__)

#: Writing the answers of a chunk is retried this many times when the database drops the connection:
#: the mails are out, and giving up here is what could make them go out twice.
RECORD_ATTEMPTS = 5
RECORD_RETRY_SECONDS = 0.5
#: The parameter naming a row in the record statements.
ROW = 'row_id'
#: Rows to write, grouped by the columns they change (one statement per group).
Row = dict[str, Any]
Grouped = dict[tuple[str, ...], list[Row]]
Kept = TypeVar('Kept')


@dataclass(frozen=True)
class Answer:
    """What the channel said of one delivery."""

    delivery_id: str
    sent: SendResult


@dataclass(frozen=True)
class Recorded:
    """What happens next to a delivery, and its row's new values."""

    decision: Outcome
    changes: Mapping[str, Any]


def recorded(context: StageContext, answer: SendResult) -> Recorded:
    """Sent: Done; a temporary failure: Retry (Park on the last attempt); a permanent one: Park."""
    if answer.status == SendStatus.sent:
        changes = {
            'state': DeliveryState.sent,
            'sent_at': context.clock(),
            'last_error': None,
            'provider_message_id': answer.provider_message_id,
        }
        return Recorded(Done(), changes)
    if answer.status == SendStatus.temporary_failure and not context.is_last_attempt:
        return Recorded(Retry(answer.detail), {'state': DeliveryState.pending, 'last_error': answer.detail})
    reason = answer.detail
    if answer.status == SendStatus.temporary_failure:
        reason = 'gave up after {0} attempts: {1}'.format(context.attempt, answer.detail)
    return Recorded(Park(reason), {'state': DeliveryState.failed, 'last_error': answer.detail})


@dataclass(frozen=True)
class Answers:
    """A chunk's answers, ready to write: each delivery's decision and its row's new values."""

    decisions: Mapping[str, Outcome]
    by_columns: Grouped
    #: The claim's moment: the fence the rows must still hold.
    claimed_at: dt.datetime


def answers_of(context: StageContext, answers: Sequence[Answer], claimed_at: dt.datetime) -> Answers:
    """Decide each delivery's next step and group the rows to write by the columns they change."""
    decisions: dict[str, Outcome] = {}
    by_columns: Grouped = {}
    for answer in answers:
        outcome = recorded(context, answer.sent)
        decisions[answer.delivery_id] = outcome.decision
        row = {ROW: answer.delivery_id, **outcome.changes}
        by_columns.setdefault(tuple(sorted(outcome.changes)), []).append(row)
    return Answers(decisions, by_columns, claimed_at)


def committed(context: StageContext, work: Callable[[], Kept], what: str) -> Kept:
    """Run ``work`` and commit; when the database drops the connection, run it again on a new one.

    Retried because the mails of the answers it writes are out: giving up is what could send them
    twice. ``work`` must be safe to run again after a failed try (the claim's fence makes a
    record written twice a no-op, and a claim written twice claims nothing the second time).
    """
    for attempt in range(1, RECORD_ATTEMPTS):
        try:
            return _run_and_commit(context, work)
        except exc.DBAPIError:
            logger.warning('%s failed, trying again', what)
            time.sleep(RECORD_RETRY_SECONDS * attempt)
    return _run_and_commit(context, work)


def _run_and_commit(context: StageContext, work: Callable[[], Kept]) -> Kept:
    try:
        done = work()
        context.session.commit()
    except exc.DBAPIError:
        # The connection died (terminated, failover): drop it without another round trip; a rollback
        # that raised here made the whole batch fail after its mails were out.
        discard_session()
        # The pooled connections likely died with it (a restart, a failover, backends terminated) and
        # nothing pings them on checkout: start the next try from new ones, or each dead one in the pool
        # costs a try, and running out of tries is what sends a chunk twice.
        bind = context.session.get_bind()
        if isinstance(bind, Engine):
            bind.dispose()
        raise
    return done


def write_answers(context: StageContext, written: Answers | None) -> None:
    """Write a chunk's answers (one statement per kind of change), fenced by its claim; no commit."""
    if written is None:
        return
    fenced = (DELIVERIES.c.state == DeliveryState.sending, DELIVERIES.c.sending_since == written.claimed_at)
    on_postgresql = context.session.get_bind().dialect.name == 'postgresql'
    for columns, rows in written.by_columns.items():
        if on_postgresql:
            # One ``UPDATE … FROM unnest(arrays)``: the driver runs an executemany as one statement per
            # row, and the arrays keep the statement the same whatever the chunk's size (compiled once).
            answers = _unnested(columns)
            context.session.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == answers.c[ROW], *fenced)
                .values(sending_since=None, **{name: answers.c[name] for name in columns}),
                {name: [row[name] for row in rows] for name in (ROW, *columns)},
            )
        else:
            context.session.execute(
                update(DELIVERIES)
                .where(DELIVERIES.c.id == bindparam(ROW), *fenced)
                .values(sending_since=None, **{name: bindparam(name) for name in columns}),
                rows,
            )


def _unnested(columns: tuple[str, ...]) -> TableValuedAlias:
    """``unnest(:row_id, :state, …) AS answers(row_id, state, …)``: one array parameter per column."""
    types = {ROW: DELIVERIES.c.id.type}
    types.update((name, DELIVERIES.c[name].type) for name in columns)
    return unnested_rows(types, 'answers')
