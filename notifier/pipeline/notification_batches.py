"""The notifications a batch of ``notifications`` or ``generator`` messages names, read at once."""

from collections.abc import Collection, Sequence

from sqlalchemy import select

from notifier.models import Notification
from notifier.models.membership import one_of
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Outcome, Park, PoisonMessageError
from notifier.pipeline.stage_calls import Body

NOTIFICATION_MESSAGE = NotificationMessageSchema


def named_ids(bodies: Sequence[Body], outcomes: list[Outcome]) -> dict[int, str]:
    """The notification id of each message by its index; a poison one is parked."""
    wanted = {}
    for index, body in enumerate(bodies):
        try:
            wanted[index] = load_message(NOTIFICATION_MESSAGE, body)['notification_id']
        except PoisonMessageError as error:
            outcomes[index] = Park(str(error))
    return wanted


def notifications_named(context: StageContext, notification_ids: Collection[str]) -> dict[str, Notification]:
    """The notifications that exist among these ids (one query)."""
    query = select(Notification).where(one_of(context.session, Notification.id, set(notification_ids)))
    return {notification.id: notification for notification in context.session.scalars(query)}


def missing(notification_id: str) -> Park:
    """A message naming a notification that does not exist."""
    return Park('notification {0} does not exist'.format(notification_id))
