"""Cancelling a notification before sending begins."""

from sqlalchemy import update
from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus

CANCELLABLE = (NotificationStatus.accepted, NotificationStatus.scheduled)


class NotCancellableError(ValueError):
    """Sending began (or the notification was cancelled before)."""


def cancel_notification(session: Session, notification_id: str) -> Notification | None:
    """Cancel a notification that is not yet handed to the generator.

    A compare-and-set on the status, so a router or scheduler moving it at the
    same moment either wins (and cancelling is refused) or sees it cancelled.
    Returns None when there is no such notification.
    """
    cancelled = session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status.in_(CANCELLABLE))
        .values(status=NotificationStatus.cancelled)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    notification = session.get(Notification, notification_id)
    if notification is None:
        return None
    session.refresh(notification)
    if not cancelled.rowcount:  # type: ignore[attr-defined]
        raise NotCancellableError('notification {0} is {1}: it can no longer be cancelled'.format(
            notification_id, notification.status,
        ))
    return notification
