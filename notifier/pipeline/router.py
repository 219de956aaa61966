"""The router: an immediate notification goes on to the generator now;
a usual or delayed one waits in the database for the scheduler.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import func, update

from notifier.models import Notification, NotificationStatus
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.notification_batches import NotificationFacts, facts_named, missing, named_ids
from notifier.pipeline.outcomes import Done, Forward, Outcome
from notifier.pipeline.stage_calls import Body

_ROUTABLE = frozenset((NotificationStatus.accepted, NotificationStatus.queued))
#: AMQP's ``message_id`` is a short string.
MAX_MESSAGE_ID = 255


class Generated(Protocol):
    """What the generator's message says of a notification (a model or its facts)."""

    @property
    def id(self) -> str:
        """The notification's id."""

    @property
    def is_bulk(self) -> bool:
        """Whether it takes the bulk lane."""


def generator_message(notification: Generated, page: str | None = None) -> Forward:
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
    """Decide where one freshly accepted notification goes (see :func:`route_batch`)."""
    return route_batch([body], context)[0]


def route_batch(bodies: Sequence[Body], context: StageContext) -> list[Outcome]:
    """Decide where freshly accepted notifications go: one read, two updates, one commit for the batch.

    A redelivered message of a notification already ``queued`` is forwarded
    again: the generator is idempotent, and the first forward may be lost.
    """
    outcomes: list[Outcome] = [Done() for _ in bodies]
    wanted = named_ids(bodies, outcomes)
    found = facts_named(context, wanted.values())
    queued = _route_all(context, found)
    for index, notification_id in wanted.items():
        notification = found.get(notification_id)
        if notification is None:
            outcomes[index] = missing(notification_id)
        elif notification_id in queued:
            outcomes[index] = Done(forward=[generator_message(notification)])
    context.session.commit()  # after the messages are made: a commit expires what they read
    return outcomes


def _route_all(context: StageContext, found: Mapping[str, NotificationFacts]) -> set[str]:
    """Queue the immediate ones that are due, schedule the others (the caller commits); the ids queued now."""
    now = context.clock()
    due_now = {
        notification.id for notification in found.values()
        if notification.urgency == 'immediate' and _due(notification, now)
    }
    queued = _move_all(context, due_now, NotificationStatus.queued, None)
    _move_all(context, set(found) - due_now, NotificationStatus.scheduled, next_slot(now, context.usual_slot_seconds))
    return queued


def _due(notification: NotificationFacts, now: dt.datetime) -> bool:
    return notification.scheduled_at is None or notification.scheduled_at <= now


def next_slot(now: dt.datetime, slot_seconds: int) -> dt.datetime:
    """The next boundary of the operator's slot for usual notifications (every minute by default)."""
    epoch_seconds = int(now.timestamp())
    boundary = epoch_seconds - epoch_seconds % slot_seconds + slot_seconds
    return dt.datetime.fromtimestamp(boundary, tz=dt.timezone.utc)


def _move_all(
    context: StageContext, notification_ids: set[str], status: str, slot: dt.datetime | None,
) -> set[str]:
    """A compare-and-set from a routable status (a concurrent cancel wins cleanly); the ids moved.

    ``slot``: a usual notification without a time waits for it (a delayed one keeps its own).
    """
    if not notification_ids:
        return set()
    changes: dict[str, Any] = {'status': status}
    if slot is not None:
        changes['scheduled_at'] = func.coalesce(Notification.scheduled_at, slot)
    moved = context.session.execute(
        update(Notification)
        .where(Notification.id.in_(notification_ids), Notification.status.in_(_ROUTABLE))
        .values(changes)
        .returning(Notification.id)
        .execution_options(synchronize_session=False),
    )
    return set(moved.scalars())
