"""The notifications a batch of messages names, read at once: as ORM objects, or as a few plain columns."""

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from notifier.models import Notification
from notifier.models.notification import BULK_SCALE
from notifier.models.membership import one_of
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Outcome, Park, PoisonMessageError
from notifier.pipeline.stage_calls import Body

NOTIFICATION_MESSAGE = NotificationMessageSchema


@dataclass(frozen=True)
class NotificationFacts:
    """What the router and the worker read of a notification: a few columns, not an ORM object.

    Building ORM objects was a sixth of a consume process's CPU for individual notifications, each
    read again by every stage; the generator, which needs the whole notification, still loads it.
    """

    id: str
    type: str
    status: str
    urgency: str
    scale: str
    scheduled_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def is_bulk(self) -> bool:
        """A mailing (its messages take the bulk lane), as :attr:`Notification.is_bulk`."""
        return self.scale == BULK_SCALE


FACTS = select(
    Notification.id, Notification.type, Notification.status, Notification.urgency, Notification.scale,
    Notification.scheduled_at, Notification.created_at,
)


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


def facts_named(context: StageContext, notification_ids: Collection[str]) -> dict[str, NotificationFacts]:
    """The facts of the notifications that exist among these ids (one query, plain rows)."""
    named = FACTS.where(one_of(context.session, Notification.id, set(notification_ids)))
    facts = (NotificationFacts(*row) for row in context.session.execute(named))
    return {fact.id: fact for fact in facts}


def missing(notification_id: str) -> Park:
    """A message naming a notification that does not exist."""
    return Park('notification {0} does not exist'.format(notification_id))
