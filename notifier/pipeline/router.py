"""The router: an immediate notification goes on to the generator now;
a usual or delayed one waits in the database for the scheduler.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from notifier.models import Notification, NotificationStatus
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park

_ROUTABLE = frozenset((NotificationStatus.accepted, NotificationStatus.queued))
#: AMQP's ``message_id`` is a short string.
MAX_MESSAGE_ID = 255


def generator_message(notification: Notification, page: str | None = None) -> Forward:
    """The generator's message for a notification (also used by the scheduler and a mailing's next page).

    ``page`` (the checkpoint it continues from) only makes the message id tell the pages apart.
    """
    message_id = 'generate:{0}'.format(notification.id)
    return Forward(
        routing_key=topology.lane_route(topology.GENERATOR, notification.is_bulk),
        body={'notification_id': notification.id},
        message_id=message_id if page is None else '{0}:after:{1}'.format(message_id, page)[:MAX_MESSAGE_ID],
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
        if _move(context, notification.id, NotificationStatus.queued, notification.scheduled_at):
            return Done(forward=[generator_message(notification)])
        return Done()  # cancelled meanwhile
    scheduled_at = notification.scheduled_at or next_slot(now, context.usual_slot_seconds)
    _move(context, notification.id, NotificationStatus.scheduled, scheduled_at)
    return Done()


def next_slot(now: dt.datetime, slot_seconds: int) -> dt.datetime:
    """The next boundary of the operator's slot for usual notifications (every minute by default)."""
    epoch_seconds = int(now.timestamp())
    boundary = epoch_seconds - epoch_seconds % slot_seconds + slot_seconds
    return dt.datetime.fromtimestamp(boundary, tz=dt.timezone.utc)


def _move(context: StageContext, notification_id: str, status: str, scheduled_at: dt.datetime | None) -> bool:
    """A compare-and-set from a routable status, so a concurrent cancel wins cleanly."""
    moved = context.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status.in_(_ROUTABLE))
        .values(status=status, scheduled_at=scheduled_at)
        .execution_options(synchronize_session=False),
    )
    context.session.commit()
    return bool(moved.rowcount)  # type: ignore[attr-defined]
