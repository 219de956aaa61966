"""Releasing due notifications to the generator, exactly once each.

The status change and the outbox row are one transaction, and the change is
a compare-and-set (``WHERE status = 'scheduled'``): two schedulers that see
the same due notification release it once.
"""

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus
from notifier.pipeline.outbox import outbox_row
from notifier.pipeline.router import generator_message

RELEASE_BATCH_SIZE = 500


def release_due(session: Session, now: dt.datetime, limit: int = RELEASE_BATCH_SIZE) -> list[int]:
    """Hand every scheduled notification due by ``now`` to the generator.

    Returns the ids of the outbox rows written, for the caller to publish now.
    """
    due = session.scalars(
        select(Notification)
        .where(Notification.status == NotificationStatus.scheduled, Notification.scheduled_at <= now)
        .order_by(Notification.scheduled_at)
        .limit(limit),
    ).all()
    rows = []
    for notification in due:
        claimed = session.execute(
            update(Notification)
            .where(Notification.id == notification.id, Notification.status == NotificationStatus.scheduled)
            .values(status=NotificationStatus.queued)
            .execution_options(synchronize_session=False),
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            row = outbox_row(generator_message(notification))
            session.add(row)
            rows.append(row)
    session.commit()
    return [row.id for row in rows]
