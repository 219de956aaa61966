"""What a fire of a schedule with a bulk audience makes: one bulk notification and its mailing.

A schedule's audience ``{"kind": "segment", "segment": NAME}`` or
``{"kind": "users", "user_ids": [...]}`` (the schedules of recurring
mailings, :mod:`notifier.services.recurring`) is expanded by the generator
like any bulk event, with a checkpoint, opt-outs and progress, instead of
one notification per address as for ``user`` and ``list`` audiences. The
notification's idempotency key names the schedule and the fire time, so a
fire makes its mailing once, whatever restarts.

The scheduler calls :func:`fire_bulk` for such audiences (see ``docs/admin.md``).
"""

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus, Occurrence, Schedule
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.services.announcements import add_with_outbox
from notifier.services.mailings import add_mailing
from notifier.users.directory import EVERYONE

KIND: Final = 'kind'
USERS_KIND: Final = 'users'
SEGMENT: Final = 'segment'
USER_IDS: Final = 'user_ids'
DEFAULT_LOCALE: Final = 'ru'


def is_bulk_audience(schedule_audience: Mapping[str, Any]) -> bool:
    """Whether a schedule's audience makes one bulk mailing per fire (rather than one notification per address)."""
    return schedule_audience.get(KIND) in {USERS_KIND, SEGMENT}


def mailing_audience(schedule_audience: Mapping[str, Any]) -> dict[str, Any]:
    """The audience of the mailing a fire makes."""
    if schedule_audience.get(KIND) == USERS_KIND:
        return {USER_IDS: list(schedule_audience.get(USER_IDS) or ())}
    return {SEGMENT: str(schedule_audience.get(SEGMENT) or EVERYONE)}


def fire_bulk(session: Session, schedule: Schedule, occurrence: Occurrence) -> int:
    """One fire of a bulk schedule: its notification and mailing (not committed); returns the outbox row's id."""
    fire_at = occurrence.fire_at.isoformat()
    notification = Notification(
        idempotency_key='schedule:{0}:{1}'.format(schedule.id, fire_at),
        request_hash='schedule',
        type=schedule.type,
        urgency='immediate',
        scale='bulk',
        periodic=True,
        template=schedule.template or NOTIFICATION_TYPES[schedule.type].template,
        locale=schedule.locale or DEFAULT_LOCALE,
        channels=list(schedule.channels),
        fields={**schedule.fields, 'fire_at': fire_at},
        status=NotificationStatus.accepted,
        occurrence_id=occurrence.id,
    )
    row = add_with_outbox(session, notification)
    add_mailing(session, notification, mailing_audience(schedule.audience))
    occurrence.notifications = 1
    return row.id
