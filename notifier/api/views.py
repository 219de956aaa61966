"""How notifications look in API answers: dumped by the schemas the OpenAPI document describes."""

from collections.abc import Sequence
from typing import Any

from notifier.models import Notification
from notifier.schemas.notifications import AcceptedSchema, NotificationPageSchema, NotificationSchema

ACCEPTED = 'accepted'
#: Built once: the accept path runs for every event.
ACCEPTED_SCHEMA = AcceptedSchema()


def notification_summary(notification: Notification, *, replayed: bool = False) -> dict[str, Any]:
    """The answer to ``POST /events``: the id and where the notification is."""
    summary: dict[str, Any] = ACCEPTED_SCHEMA.dump({
        'id': notification.id,
        'status': ACCEPTED,
        'notification_status': notification.status,
        'replayed': replayed,
        'created_at': notification.created_at,
    })
    return summary


def notification_view(notification: Notification) -> dict[str, Any]:
    """A notification with its deliveries."""
    view: dict[str, Any] = NotificationSchema().dump(notification)
    return view


def notification_page(notifications: Sequence[Notification], next_cursor: str | None) -> dict[str, Any]:
    """A page of the list, with the cursor of the next one (or ``None`` on the last page)."""
    page: dict[str, Any] = NotificationPageSchema().dump({'items': notifications, 'next': next_cursor})
    return page
