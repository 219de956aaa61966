"""Firing due schedules: occurrences and their notifications, once each.

Each schedule is handled in its own transaction: its row is locked
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so another scheduler moves on to
other schedules), the occurrences are inserted (``UNIQUE(schedule_id,
fire_at)`` is the backstop if two schedulers ever race), one notification
per recipient is written with its outbox row, and ``next_fire_at`` moves to
the next time the schedule names, never to ``now + period``.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus, Occurrence, OccurrenceState, Schedule
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.cron import fire_times, next_fire_after
from notifier.scheduler.misfire import FirePlan, plan_fires
from notifier.services.accept import add_with_outbox
from notifier.services.bulk_fires import fire_bulk, is_bulk_audience
from notifier.services.schedules import fire_spec

logger = logging.getLogger(__name__)

#: At most this many past fire times are looked at per schedule and pass (fire_all after a long outage).
MAX_CATCH_UP = 1000
SCHEDULES_PER_PASS = 100


@dataclass(frozen=True)
class Fired:
    """What one pass did."""

    outbox_ids: list[int]
    fired: int
    skipped: int


def recipients(schedule: Schedule) -> list[str]:
    """The email addresses a schedule's audience names (one user or a list)."""
    audience = schedule.audience
    if audience.get('kind') == 'list':
        return [str(email) for email in audience.get('emails', [])]
    return [str(audience['email'])] if audience.get('email') else []


def _notifications(session: Session, schedule: Schedule, occurrence: Occurrence) -> list[int]:
    if is_bulk_audience(schedule.audience):
        return [fire_bulk(session, schedule, occurrence)]  # a recurring mailing: one bulk notification a fire
    kind = NOTIFICATION_TYPES[schedule.type]
    outbox_ids = []
    for email in recipients(schedule):
        row = add_with_outbox(session, Notification(
            idempotency_key='schedule:{0}:{1}:{2}'.format(schedule.id, occurrence.fire_at.isoformat(), email),
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


def _apply(session: Session, schedule: Schedule, fire_plan: FirePlan) -> list[int]:
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


def fire_schedule(session: Session, schedule: Schedule, now: dt.datetime) -> tuple[list[int], FirePlan]:
    """Fire what is due of one (locked) schedule and move its next fire time on; the caller commits."""
    spec = fire_spec(schedule)
    due = fire_times(spec, schedule.next_fire_at or now, now, MAX_CATCH_UP)
    max_lateness = dt.timedelta(seconds=schedule.max_lateness_seconds) if schedule.max_lateness_seconds else None
    fire_plan = plan_fires(due, now, schedule.misfire_policy, max_lateness)
    outbox_ids = _apply(session, schedule, fire_plan)
    schedule.next_fire_at = next_fire_after(spec, due[-1] if due else now)
    return outbox_ids, fire_plan


def fire_now(session: Session, schedule: Schedule, now: dt.datetime) -> int:
    """Fire one extra occurrence at ``now`` (an operator's run-now); returns how many notifications."""
    fire_at = now.replace(microsecond=0)
    outbox_ids = _apply(session, schedule, FirePlan(fire=[fire_at]))
    session.commit()
    return len(outbox_ids)


def _locked(session: Session, schedule_id: str, now: dt.datetime) -> Schedule | None:
    return session.scalars(
        select(Schedule)
        .where(Schedule.id == schedule_id, Schedule.enabled.is_(True), Schedule.next_fire_at <= now)
        .with_for_update(skip_locked=True),
    ).first()


def fire_due(session: Session, now: dt.datetime) -> Fired:
    """Fire every due schedule once; safe with several schedulers at once."""
    due_ids = session.scalars(
        select(Schedule.id)
        .where(Schedule.enabled.is_(True), Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at)
        .limit(SCHEDULES_PER_PASS),
    ).all()
    session.rollback()
    outbox_ids: list[int] = []
    fired = 0
    skipped = 0
    for schedule_id in due_ids:
        schedule = _locked(session, schedule_id, now)
        if schedule is None:
            session.rollback()
            continue
        try:
            new_rows, fire_plan = fire_schedule(session, schedule, now)
            session.commit()
        except IntegrityError:
            session.rollback()
            logger.info('schedule %s: another scheduler fired this occurrence first', schedule_id)
            continue
        outbox_ids.extend(new_rows)
        fired += len(fire_plan.fire)
        skipped += len(fire_plan.skip)
    return Fired(outbox_ids, fired, skipped)
