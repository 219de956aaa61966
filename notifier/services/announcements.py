"""The message that announces a notification to the pipeline, and its outbox row.

Every writer of notifications (the API, the batch endpoint, the scheduler, a
launched mailing) adds the notification and this row in one transaction; the
outbox relay publishes the row.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from notifier.models import Notification, OutboxMessage
from notifier.models.base import new_id
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
