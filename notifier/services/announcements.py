"""The message that announces a notification to the pipeline, and its outbox row.

Every writer of notifications (the API, the batch endpoint, the scheduler, a
launched mailing) adds the notification and this row in one transaction; the
outbox relay publishes the row.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.orm import Session

from notifier.models import Notification, OutboxMessage
from notifier.models.base import new_id
from notifier.models.unnested import unnested_insert, unnested_values
from notifier.observability.log_context import REQUEST_ID_HEADER, current_request_id, new_request_id
from notifier.pipeline import topology
from notifier.pipeline.outbox import outbox_row
from notifier.pipeline.outcomes import Forward


def notification_message(notification: Notification) -> Forward:
    """The ``notifications`` queue message: the brief's shape plus the notification id."""
    return Forward(
        routing_key=topology.NOTIFICATIONS,
        body={
            'notification_id': notification.id,
            'meta': {
                'urgency': notification.urgency,
                'scale': notification.scale,
                'email': notification.recipient_email,
                'periodic': notification.periodic,
            },
            'type': notification.type,
            'custom_template': notification.template,
            'fields': notification.fields,
        },
        message_id='route:{0}'.format(notification.id),
    )


def add_with_outbox(session: Session, notification: Notification) -> OutboxMessage:
    """Add a notification and the outbox row that announces it; the caller commits both at once.

    One flush writes both (the row's id is known after it).
    """
    if not notification.id:  # made elsewhere without one: the outbox message names it
        notification.id = new_id()
    session.add(notification)
    row = outbox_row(notification_message(notification))
    session.add(row)
    session.flush()
    return row


NOTIFICATIONS: Table = Notification.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
#: Built once: Core inserts of the accept path (no unit of work, no refresh, one statement per table).
#: ``RETURNING`` makes SQLAlchemy send a batch's rows as one multi-row ``INSERT`` ("insertmanyvalues")
#: instead of an executemany of one statement per row (and the outbox trigger once, not per row).
_INSERT_NOTIFICATIONS = insert(NOTIFICATIONS).returning(NOTIFICATIONS.c.id)
_INSERT_OUTBOX = insert(OUTBOX).returning(OUTBOX.c.id)
_PLAIN_INSERT_NOTIFICATIONS = insert(NOTIFICATIONS)
_PLAIN_INSERT_OUTBOX = insert(OUTBOX)


def _announced_in_one_statement() -> Any:
    """``WITH n AS (INSERT INTO notifications …) INSERT INTO outbox …``: both rows, one statement (PostgreSQL)."""
    notification_values = {
        column.name: bindparam('n_{0}'.format(column.name), type_=column.type) for column in NOTIFICATIONS.columns
    }
    outbox_values = {
        name: bindparam('o_{0}'.format(name), type_=OUTBOX.c[name].type) for name in _OUTBOX_COLUMNS
    }
    announced = insert(NOTIFICATIONS).values(notification_values).cte('announced')
    return insert(OUTBOX).values(outbox_values).add_cte(announced)


#: The outbox columns :func:`_outbox_row` sets (the others keep their defaults: not published, no error).
_OUTBOX_COLUMNS = ('message_id', 'routing_key', 'payload', 'headers', 'created_at', 'publish_attempts')
_INSERT_ANNOUNCED = _announced_in_one_statement()
_NOTIFICATION_COLUMNS = tuple(column.name for column in NOTIFICATIONS.columns)
_UNNESTED_NOTIFICATIONS = unnested_insert(NOTIFICATIONS, _NOTIFICATION_COLUMNS)
_UNNESTED_OUTBOX = unnested_insert(OUTBOX, _OUTBOX_COLUMNS)
#: Autocommit: the statement is the transaction (no ``BEGIN`` and ``COMMIT`` round trips around it).
_ALONE = MappingProxyType({'isolation_level': 'AUTOCOMMIT'})


def commit_alone(session: Session, notification: Notification) -> bool:
    """Commit a notification and its outbox row as one autocommitted statement; ``False`` if it cannot be.

    For a notification that brings no other row (no mailing, no new user), on PostgreSQL, in a session
    with no transaction yet: one round trip, one commit. Otherwise the caller uses
    :func:`insert_with_outbox` and commits.
    """
    if session.in_transaction() or session.get_bind().dialect.name != 'postgresql':
        return False
    outbox_row = _outbox_row(notification, current_request_id() or new_request_id())
    notification_row = _notification_row(notification)
    bound_values = {'n_{0}'.format(name): column_value for name, column_value in notification_row.items()}
    bound_values.update({'o_{0}'.format(name): column_value for name, column_value in outbox_row.items()})
    session.connection(execution_options=dict(_ALONE)).execute(_INSERT_ANNOUNCED, bound_values)
    session.commit()  # ends the session's transaction: no round trip, the statement committed itself
    return True


def insert_with_outbox(session: Session, notifications: Sequence[Notification]) -> None:
    """Insert new notifications and their outbox rows in the session's transaction; the caller commits.

    The accept path's Core SQL: the notifications are plain objects the session never holds (built
    with every column set, see :func:`notifier.services.accept.new_notification`), written with one
    ``INSERT`` for all of them and one for their outbox rows (a batch's events in multi-row statements),
    with no flush, no identity map and no refresh after the commit.
    """
    if not notifications:
        return
    request_id = current_request_id() or new_request_id()
    notification_rows = [_notification_row(notification) for notification in notifications]
    outbox_rows = [_outbox_row(notification, request_id) for notification in notifications]
    connection = session.connection()
    if len(notifications) == 1:
        connection.execute(_PLAIN_INSERT_NOTIFICATIONS, notification_rows[0])
        connection.execute(_PLAIN_INSERT_OUTBOX, outbox_rows[0])
        return
    if connection.dialect.name == 'postgresql':  # one short statement text per table for any count of rows
        connection.execute(
            _UNNESTED_NOTIFICATIONS, unnested_values(NOTIFICATIONS, _NOTIFICATION_COLUMNS, notification_rows),
        )
        connection.execute(_UNNESTED_OUTBOX, unnested_values(OUTBOX, _OUTBOX_COLUMNS, outbox_rows))
        return
    connection.execute(_INSERT_NOTIFICATIONS, notification_rows).close()
    connection.execute(_INSERT_OUTBOX, outbox_rows).close()


def _notification_row(notification: Notification) -> dict[str, Any]:
    return {
        'id': notification.id,
        'idempotency_key': notification.idempotency_key,
        'request_hash': notification.request_hash,
        'type': notification.type,
        'urgency': notification.urgency,
        'scale': notification.scale,
        'periodic': notification.periodic,
        'template': notification.template,
        'locale': notification.locale,
        'channels': notification.channels,
        'recipient_email': notification.recipient_email,
        'recipient_id': notification.recipient_id,
        'fields': notification.fields,
        'content_id': notification.content_id,
        'scheduled_at': notification.scheduled_at,
        'occurrence_id': None,
        'status': notification.status,
        'created_at': notification.created_at,
        'updated_at': notification.created_at,
    }


def _outbox_row(notification: Notification, request_id: str) -> dict[str, Any]:
    """What :func:`notifier.pipeline.outbox.outbox_row` makes of the notification's message, as a row."""
    message = notification_message(notification)
    return {
        'message_id': message.message_id,
        'routing_key': message.routing_key,
        'payload': dict(message.body),
        'headers': {REQUEST_ID_HEADER: request_id, **message.headers},
        'created_at': notification.created_at,
        'publish_attempts': 0,
    }


@contextmanager
def kept_after_commit(session: Session) -> Iterator[Session]:
    """Commits inside keep the objects' loaded values: the answer reads what was just written.

    Without it every attribute read after the commit is a refresh SELECT: one per notification of an
    answer (a batch of 100 events read 100 rows back).
    """
    expiring = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield session
    finally:
        session.expire_on_commit = expiring
