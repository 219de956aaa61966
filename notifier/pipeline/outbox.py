"""The outbox relay: publishes rows that were committed but not yet confirmed.

The API (and the scheduler) write a message into ``outbox`` in the same
transaction as the data it announces. The writer publishes right after the
commit; this relay, run by ``consume`` and ``schedule``, catches every row
whose publish did not happen (crash, broker down). Publishing a row twice is
harmless: every stage is idempotent.

What went out is marked and every attempt counted even when a later publish
fails. A row the broker refuses (unroutable, nacked, not encodable) does not
stop the rows after it: it keeps the error, and after
:data:`~notifier.constants.OUTBOX_MAX_ATTEMPTS` refusals it is set aside
(``set_aside_at``) and the relay no longer tries it. A broker that is down
or a lost connection ends the pass: nothing is set aside for that, and the
rows tried least go first next time, so a row that keeps breaking the
connection never holds the others back.
"""

import datetime as dt
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from notifier.constants import OUTBOX_BATCH_SIZE, OUTBOX_ERROR_LENGTH, OUTBOX_GRACE_SECONDS, OUTBOX_MAX_ATTEMPTS
from notifier.models import OutboxMessage
from notifier.models.base import utcnow
from notifier.models.membership import one_of
from notifier.observability.log_context import REQUEST_ID_HEADER, current_request_id, new_request_id
from notifier.pipeline.envelopes import OutgoingMessage
from notifier.pipeline.broker_errors import PublishError
from notifier.pipeline.outcomes import Forward

logger = logging.getLogger(__name__)

#: The AMQP headers of a message (the request id, at least), or None for none.
Headers = Mapping[str, Any] | None
#: Publishes one message (routing key, body, message id, headers) with confirms,
#: raising when the broker did not take it.
Publish = Callable[[str, Mapping[str, Any], str, Headers], None]
#: Publishes messages with one wait for the broker (:meth:`BrokerConnection.publish_many`).
PublishMany = Callable[[Sequence[OutgoingMessage]], None]
#: The broker refused this row, or it cannot be encoded: the next rows may still go out.
REFUSED_ROW = (PublishError, TypeError, ValueError)
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


def outbox_row(forward: Forward) -> OutboxMessage:
    """An outbox row for a message; add it in the transaction of the data it announces.

    It carries the request id bound now (the API request's), or a new one (a scheduler's
    fire, a command): every message the pipeline derives from it carries the same.
    """
    request_id = current_request_id() or new_request_id()
    return OutboxMessage(
        message_id=forward.message_id,
        routing_key=forward.routing_key,
        payload=dict(forward.body),
        headers={REQUEST_ID_HEADER: request_id, **forward.headers},
    )


def _refused(row: OutboxMessage, error: Exception) -> None:
    row.last_error = '{0}: {1}'.format(type(error).__name__, error)[:OUTBOX_ERROR_LENGTH]
    if row.publish_attempts < OUTBOX_MAX_ATTEMPTS:
        logger.warning('outbox row %d (%s) not published, will try again: %s', row.id, row.message_id, row.last_error)
        return
    row.set_aside_at = utcnow()
    logger.error(
        'outbox row %d (%s) set aside after %d refused publishes: %s',
        row.id, row.message_id, row.publish_attempts, row.last_error,
    )


def _publish_row(row: OutboxMessage, publish: Publish) -> bool:
    row.publish_attempts += 1
    try:
        publish(row.routing_key, row.payload, row.message_id, row.headers)
    except REFUSED_ROW as error:
        _refused(row, error)
        return False
    row.published_at = utcnow()
    row.last_error = None
    return True


def _publish_rows(session: Session, rows: Collection[OutboxMessage], publish: Publish) -> int:
    """Publish each row; commits what went out and every attempt, even when the broker fails mid-way."""
    try:
        published = sum(_publish_row(row, publish) for row in rows)
    except Exception:  # noqa: B902 - the broker failed mid-way: keep what went out, and every attempt
        session.commit()
        raise
    session.commit()
    return published


def _published_together(session: Session, rows: Sequence[OutboxMessage], publish_many: PublishMany) -> int:
    """Publish every row at once; a row the broker returned keeps the error (set aside in the end).

    Rows that cannot even be encoded make the pass go one row at a time (-1).
    """
    refused: Collection[str | None] = ()
    error: Exception | None = None
    try:
        publish_many([
            OutgoingMessage(row.routing_key, row.payload, row.message_id, row.headers) for row in rows
        ])
    except PublishError as returned:
        refused, error = returned.refused, returned
    except (TypeError, ValueError):
        return -1
    published_ids = []
    for row in rows:
        if error is not None and row.message_id in refused:
            row.publish_attempts += 1
            _refused(row, error)
        else:
            published_ids.append(row.id)
    if published_ids:  # one statement for the pass (the unit of work would write one per row)
        session.execute(
            update(OUTBOX)
            .where(one_of(session, OUTBOX.c.id, published_ids))
            .values(published_at=utcnow(), last_error=None, publish_attempts=OUTBOX.c.publish_attempts + 1),
        )
    return len(published_ids)


def publish_now(session: Session, row_ids: Collection[int], publish: Publish) -> int:
    """Publish the rows just committed by this writer; the relay takes over on failure."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(row_ids),
            OutboxMessage.published_at.is_(None),
            OutboxMessage.set_aside_at.is_(None),
        )
        .order_by(OutboxMessage.id),
    ).all()
    return _publish_rows(session, rows, publish)


def relay_pending(
    session: Session,
    publish: Publish,
    grace_seconds: float = OUTBOX_GRACE_SECONDS,
    limit: int = OUTBOX_BATCH_SIZE,
    publish_many: PublishMany | None = None,
) -> int:
    """Publish unpublished rows older than ``grace_seconds``; several relays share the work.

    With ``publish_many`` the rows go out together, with one wait for the broker; a row the broker
    returns keeps the error and the others are marked published (a row that cannot be encoded
    makes the pass go one row at a time).
    """
    grace = dt.timedelta(seconds=grace_seconds)
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.published_at.is_(None),
            OutboxMessage.set_aside_at.is_(None),
            OutboxMessage.created_at <= utcnow() - grace,
        )
        .order_by(OutboxMessage.publish_attempts, OutboxMessage.id)  # what failed before goes last
        .limit(limit)
        .with_for_update(skip_locked=True),
    ).all()
    if not rows:
        session.rollback()
        return 0
    published = _published_together(session, rows, publish_many) if publish_many is not None else -1
    if published < 0:
        published = _publish_rows(session, rows, publish)
    else:
        session.commit()
    logger.info('outbox relay published %d message(s)', published)
    return published
