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

from sqlalchemy import Row, Select, Table, Text, cast, select, update
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
#: What the relay reads of a row: the payload as its stored JSON text, published as it is.
RELAYED_COLUMNS = select(
    OUTBOX.c.id,
    OUTBOX.c.message_id,
    OUTBOX.c.routing_key,
    cast(OUTBOX.c.payload, Text).label('payload'),
    OUTBOX.c.headers,
)


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


def _published_together(session: Session, rows: Sequence[Row[Any]], publish_many: PublishMany) -> int:
    """Publish every row at once; a row the broker returned keeps the error (set aside in the end).

    The rows are plain columns, the payload its stored JSON text, published as it is (no ORM
    objects, no decoding and encoding again: that was a quarter of a consume process's CPU while
    the API took events in batches). Rows that cannot even be encoded make the pass go one row at
    a time (-1).
    """
    refused: Collection[str | None] = ()
    error: Exception | None = None
    try:
        publish_many([
            OutgoingMessage(row.routing_key, row.payload.encode(), row.message_id, row.headers) for row in rows
        ])
    except PublishError as returned:
        refused, error = returned.refused, returned
    except (TypeError, ValueError):
        return -1
    published_ids = [row.id for row in rows if error is None or row.message_id not in refused]
    if published_ids:  # one statement for the pass (the unit of work would write one per row)
        session.execute(
            update(OUTBOX)
            .where(one_of(session, OUTBOX.c.id, published_ids))
            .values(published_at=utcnow(), last_error=None, publish_attempts=OUTBOX.c.publish_attempts + 1),
        )
    if error is not None:
        returned_ids = [row.id for row in rows if row.message_id in refused]
        for returned_row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(returned_ids))):
            returned_row.publish_attempts += 1
            _refused(returned_row, error)
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
    oldest = utcnow() - dt.timedelta(seconds=grace_seconds)
    if publish_many is None:
        return _relayed_one_by_one(session, _pending(select(OutboxMessage), oldest, limit), publish)
    rows = session.execute(_pending(RELAYED_COLUMNS, oldest, limit)).all()
    if not rows:
        session.rollback()
        return 0
    published = _published_together(session, rows, publish_many)
    if published < 0:  # a row could not be encoded: one at a time, each with its own error (the rows stay locked)
        by_id = select(OutboxMessage).where(OutboxMessage.id.in_([row.id for row in rows]))
        return _relayed_one_by_one(session, by_id.order_by(OutboxMessage.id), publish)
    session.commit()
    logger.info('outbox relay published %d message(s)', published)
    return published


def _pending(query: Select[Any], oldest: dt.datetime, limit: int) -> Select[Any]:
    """Unpublished rows not set aside and written before ``oldest``, the least tried first, locked, skipping locked."""
    return (
        query.where(
            OUTBOX.c.published_at.is_(None),
            OUTBOX.c.set_aside_at.is_(None),
            OUTBOX.c.created_at <= oldest,
        )
        .order_by(OUTBOX.c.publish_attempts, OUTBOX.c.id)  # what failed before goes last
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _relayed_one_by_one(session: Session, query: Select[Any], publish: Publish) -> int:
    rows = session.scalars(query).all()
    if not rows:
        session.rollback()
        return 0
    published = _publish_rows(session, rows, publish)
    logger.info('outbox relay published %d message(s)', published)
    return published
