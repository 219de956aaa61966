"""How notifications and deliveries look in API answers."""

import datetime as dt
from typing import Any

from notifier.models import Delivery, Notification


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    """A delivery as the API shows it."""
    return {
        'id': delivery.id,
        'channel': delivery.channel,
        'recipient': delivery.recipient,
        'state': delivery.state,
        'attempts': delivery.attempts,
        'last_error': delivery.last_error,
        'sent_at': _iso(delivery.sent_at),
        'updated_at': _iso(delivery.updated_at),
    }


def notification_summary(notification: Notification, *, replayed: bool = False) -> dict[str, Any]:
    """The answer to ``POST /events``: the id and where the notification is."""
    return {
        'id': notification.id,
        'status': 'accepted',
        'notification_status': notification.status,
        'replayed': replayed,
        'created_at': _iso(notification.created_at),
    }


def notification_view(notification: Notification) -> dict[str, Any]:
    """A notification with its deliveries."""
    return {
        'id': notification.id,
        'type': notification.type,
        'status': notification.status,
        'urgency': notification.urgency,
        'scale': notification.scale,
        'template': notification.template,
        'locale': notification.locale,
        'channels': notification.channels,
        'recipient': {'email': notification.recipient_email, 'user_id': notification.recipient_id},
        'fields': notification.fields,
        'scheduled_at': _iso(notification.scheduled_at),
        'created_at': _iso(notification.created_at),
        'deliveries': [delivery_view(delivery) for delivery in notification.deliveries],
    }
