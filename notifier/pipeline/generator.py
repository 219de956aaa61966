"""The generator: one worker message per recipient x channel of a notification.

A mailing's message expands one page of its audience (:mod:`notifier.pipeline.expansion`);
an individual notification goes to the one recipient its event named
(:mod:`notifier.pipeline.individual`). A batch's individual notifications are
handled together.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from notifier.models import Notification, NotificationStatus
from notifier.pipeline.context import StageContext
from notifier.pipeline.expansion import expand_mailing
from notifier.pipeline.individual import expand_individuals
from notifier.pipeline.notification_batches import missing, named_ids, notifications_named
from notifier.pipeline.outcomes import Done, Outcome
from notifier.pipeline.stage_calls import Body


def generate(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Expand one notification into per-recipient worker messages (see :func:`generate_batch`)."""
    return generate_batch([body], context)[0]


def generate_batch(bodies: Sequence[Body], context: StageContext) -> list[Outcome]:
    """Expand notifications into per-recipient worker messages.

    A mailing's message expands one page of it (:func:`expand_mailing`). The individual ones of the
    batch are read together: one read of the notifications, one call to the directory, one update
    to ``processing``, one preference read per category, one commit.
    """
    outcomes: list[Outcome] = [Done() for _ in bodies]
    wanted = named_ids(bodies, outcomes)
    found = notifications_named(context, wanted.values())
    individual: dict[int, Notification] = {}
    for index, notification_id in wanted.items():
        if notification_id not in found:
            outcomes[index] = missing(notification_id)
        elif _is_mailing(found[notification_id]):
            outcomes[index] = expand_mailing(context, found[notification_id])
        else:
            individual[index] = found[notification_id]
    outcomes_of_individuals = expand_individuals(context, individual)
    return [outcomes_of_individuals.get(position, outcomes[position]) for position in range(len(bodies))]


def _is_mailing(notification: Notification) -> bool:
    return notification.is_bulk and notification.status != NotificationStatus.cancelled
