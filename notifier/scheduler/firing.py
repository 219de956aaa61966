"""Firing due schedules: occurrences and their notifications, once each.

Each schedule is handled in its own transaction: its row is locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so another scheduler moves on to
other schedules), the occurrences are inserted (``UNIQUE(schedule_id,
fire_at)`` is the backstop if two schedulers ever race), one notification
per recipient is written with its outbox row, and ``next_fire_at`` moves to
the next time the schedule names, never to ``now + period``.

:mod:`notifier.scheduler.schedules_pass` fires every due schedule, one
transaction each; one schedule that cannot fire never stops the pass.
"""

import datetime as dt
import hashlib
import logging

from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus, Occurrence, OccurrenceState, Schedule
from notifier.notification_types import NOTIFICATION_TYPES, NotificationType
from notifier.scheduler.failures import CannotFireError
from notifier.scheduler.misfire import FirePlan
from notifier.scheduler.planning import DuePlan
from notifier.services.announcements import add_with_outbox
from notifier.services.bulk_fires import fire_bulk, is_bulk_audience

logger = logging.getLogger(__name__)


def _mailbox(email: str) -> str:
    """The address with its domain in lower case (domains are case-insensitive, local parts may not be)."""
    local_part, _, domain = email.rpartition('@')
    return '{0}@{1}'.format(local_part, domain.lower())


def recipients(schedule: Schedule) -> list[str]:
    """The email addresses a schedule's audience names (one user or a list), each mailbox once."""
    audience = schedule.audience
    if audience.get('kind') == 'list':
        named = [str(email) for email in audience.get('emails', [])]
    else:
        named = [str(audience['email'])] if audience.get('email') else []
    unique: dict[str, str] = {}
    for email in named:
        unique.setdefault(_mailbox(email), email)
    return list(unique.values())


def recipient_key(schedule_id: str, fire_at: dt.datetime, email: str) -> str:
    """The idempotency key of one recipient's notification of one fire; fits the column whatever the address."""
    digest = hashlib.sha256(_mailbox(email).encode()).hexdigest()
    return 'schedule:{0}:{1}:{2}'.format(schedule_id, fire_at.isoformat(), digest)


def _kind(schedule: Schedule) -> NotificationType:
    kind = NOTIFICATION_TYPES.get(schedule.type)
    if kind is None:
        raise CannotFireError('unknown notification type {0!r}'.format(schedule.type))
    return kind


def _notifications(session: Session, schedule: Schedule, occurrence: Occurrence) -> list[int]:
    kind = _kind(schedule)
    if is_bulk_audience(schedule.audience):
        return [fire_bulk(session, schedule, occurrence)]  # a recurring mailing: one bulk notification a fire
    outbox_ids = []
    for email in recipients(schedule):
        row = add_with_outbox(session, Notification(
            idempotency_key=recipient_key(schedule.id, occurrence.fire_at, email),
            request_hash='schedule',
            type=kind.name,
            urgency='immediate',
            scale='individual',
            periodic=True,
            template=schedule.template or kind.template,
            locale=schedule.locale or 'ru',
            channels=list(schedule.channels),
            recipient_email=email,
            recipient_id=None,
            fields={**schedule.fields, 'fire_at': occurrence.fire_at.isoformat()},
            status=NotificationStatus.accepted,
            occurrence_id=occurrence.id,
        ))
        outbox_ids.append(row.id)
    occurrence.notifications = len(outbox_ids)
    return outbox_ids


def apply_plan(session: Session, schedule: Schedule, fire_plan: FirePlan) -> list[int]:
    """Write the occurrences of a plan and the notifications of each fire; the outbox rows' ids."""
    outbox_ids: list[int] = []
    for fire_at, reason in fire_plan.skip:
        session.add(Occurrence(
            schedule_id=schedule.id, fire_at=fire_at, state=OccurrenceState.skipped, reason=reason,
        ))
    for fire_at in fire_plan.fire:
        occurrence = Occurrence(schedule_id=schedule.id, fire_at=fire_at, state=OccurrenceState.fired)
        session.add(occurrence)
        session.flush()
        outbox_ids.extend(_notifications(session, schedule, occurrence))
    return outbox_ids


def fire_schedule(session: Session, schedule: Schedule, plan: DuePlan) -> list[int]:
    """Fire what is due of one (locked) schedule and move its next fire time on; the caller commits."""
    if plan.recorded:
        logger.info(
            'schedule %s: %d due fire time(s) had an occurrence already (run-now or another scheduler)',
            schedule.name, plan.recorded,
        )
    outbox_ids = apply_plan(session, schedule, plan.fire_plan)
    schedule.next_fire_at = plan.next_fire_at
    if plan.fire_plan.fire:
        schedule.failure = None
        schedule.failed_at = None
    return outbox_ids
