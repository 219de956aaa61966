"""Writing the answers of a sender's chunk: one statement per kind of answer, fenced by the claim.

An answer is written only where the row is still ``sending`` since this
claim's moment: a sender whose lease expired and was taken over by another
cannot overwrite what the new holder recorded.
"""

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exc, update

from notifier.channels.base import SendResult, SendStatus
from notifier.extensions import discard_session
from notifier.models import DeliveryState
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


def record(context: StageContext, answers: Sequence[Answer], claimed_at: dt.datetime) -> dict[str, Outcome]:
    """Write the answers and commit (retried when the connection drops); each delivery's decision."""
    decisions: dict[str, Outcome] = {}
    by_columns: Grouped = {}
    for answer in answers:
        outcome = recorded(context, answer.sent)
        decisions[answer.delivery_id] = outcome.decision
        row = {ROW: answer.delivery_id, **outcome.changes}
        by_columns.setdefault(tuple(sorted(outcome.changes)), []).append(row)
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        if _written(context, by_columns, claimed_at, last=attempt == RECORD_ATTEMPTS):
            return decisions
        logger.warning('recording %d deliveries failed, trying again', len(answers))
        time.sleep(RECORD_RETRY_SECONDS * attempt)
    raise AssertionError('unreachable')


def _written(context: StageContext, by_columns: Grouped, since: dt.datetime, last: bool) -> bool:
    """Write and commit; False when the database dropped the connection (raised on the ``last`` try)."""
    try:
        _write(context, by_columns, since)
    except exc.DBAPIError:
        # The connection died (terminated, failover): drop it without another round trip; a rollback
        # that raised here made the whole batch fail after its mails were out.
        discard_session()
        if last:
            raise
        return False
    return True


def _write(context: StageContext, by_columns: Grouped, since: dt.datetime) -> None:
    for columns, rows in by_columns.items():
        statement = (
            update(DELIVERIES)
            .where(
                DELIVERIES.c.id == bindparam(ROW),
                DELIVERIES.c.state == DeliveryState.sending,
                DELIVERIES.c.sending_since == since,
            )
            .values(sending_since=None, **{column: bindparam(column) for column in columns})
        )
        context.session.execute(statement, rows)
    context.session.commit()
