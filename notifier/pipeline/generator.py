"""The generator: one worker message per recipient x channel of a notification.

For an individual notification the recipient is the one the event named.
Audience expansion of bulk notifications pages through the user directory.
"""

from collections.abc import Mapping
from typing import Any

from notifier.models import Notification, NotificationStatus
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park


def worker_message(notification: Notification, email: str, channel: str) -> Forward:
    """The worker's message for one recipient on one channel (the brief's worker shape)."""
    return Forward(
        routing_key=topology.WORKER,
        body={
            'notification_id': notification.id,
            'channel': channel,
            'email': email,
            'template': notification.template,
            'locale': notification.locale,
            'fields': notification.fields,
        },
        message_id='work:{0}:{1}:{2}'.format(notification.id, channel, email),
    )


def generate(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Expand a notification into per-recipient worker messages."""
    message = load_message(NotificationMessageSchema, body)
    notification = context.session.get(Notification, message['notification_id'])
    if notification is None:
        return Park('notification {0} does not exist'.format(message['notification_id']))
    if notification.status == NotificationStatus.cancelled:
        return Done()
    if notification.recipient_email is None:
        return Park('notification {0} names no recipient email'.format(notification.id))
    if notification.status != NotificationStatus.processing:
        notification.status = NotificationStatus.processing
        context.session.commit()
    return Done(forward=[
        worker_message(notification, notification.recipient_email, channel)
        for channel in notification.channels
    ])
