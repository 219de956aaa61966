"""The router: an immediate notification goes on to the generator now;
a usual or delayed one waits in the database for the scheduler.
"""

from collections.abc import Mapping
from typing import Any

from notifier.models import Notification, NotificationStatus
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park

_ROUTABLE = frozenset((NotificationStatus.accepted, NotificationStatus.queued))


def generator_message(notification: Notification) -> Forward:
    """The generator's message for a notification (also used by the scheduler)."""
    return Forward(
        routing_key=topology.GENERATOR,
        body={'notification_id': notification.id},
        message_id='generate:{0}'.format(notification.id),
    )


def route(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Decide where a freshly accepted notification goes.

    A redelivered message of a notification already ``queued`` is forwarded
    again: the generator is idempotent, and the first forward may be lost.
    """
    message = load_message(NotificationMessageSchema, body)
    notification = context.session.get(Notification, message['notification_id'])
    if notification is None:
        return Park('notification {0} does not exist'.format(message['notification_id']))
    if notification.status not in _ROUTABLE:
        return Done()
    now = context.clock()
    due = notification.scheduled_at is None or notification.scheduled_at <= now
    if notification.urgency == 'immediate' and due:
        notification.status = NotificationStatus.queued
        context.session.commit()
        return Done(forward=[generator_message(notification)])
    if notification.scheduled_at is None:
        notification.scheduled_at = now
    notification.status = NotificationStatus.scheduled
    context.session.commit()
    return Done()
