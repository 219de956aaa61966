"""Recurring mailings: a launched cron plan is a schedule whose every fire makes one bulk mailing.

The schedule is named ``mailing-<plan id>`` (schedule names are unique, so a
plan never gets two) and its audience is ``{"kind": "segment", "segment":
NAME}`` or ``{"kind": "users", "user_ids": [...]}``; at each fire the
scheduler makes one bulk mailing of it (:mod:`notifier.services.bulk_fires`),
whose progress the panel shows like any other mailing's. Pausing, resuming
and cancelling the plan pause, resume and stop its schedule.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifier.models import Mailing, MailingState, Notification, NotificationStatus, Occurrence, Schedule
from notifier.services import mailings
from notifier.services.bulk_fires import KIND, SEGMENT, USER_IDS, USERS_KIND
from notifier.services.mailing_plans import RECURRING, MailingPlan
from notifier.services.schedules import ScheduleNameTakenError, create_schedule, set_enabled
from notifier.users.directory import EVERYONE

SCHEDULE_PREFIX: Final = 'mailing-'
#: A fire later than this (the scheduler was down) is skipped: an old promotion is not worth sending.
MAX_LATENESS_SECONDS: Final = int(dt.timedelta(hours=6).total_seconds())


@dataclass(frozen=True)
class RecurringChange:
    """What pausing, resuming or cancelling a recurring plan does."""

    allowed_from: tuple[str, ...]
    new_state: str
    fires: bool


RECURRING_CHANGES: Final[Mapping[str, RecurringChange]] = MappingProxyType({
    'pause': RecurringChange((RECURRING,), MailingState.paused, fires=False),
    'resume': RecurringChange((MailingState.paused,), RECURRING, fires=True),
    'cancel': RecurringChange((RECURRING, MailingState.paused), MailingState.cancelled, fires=False),
})
#: A one-off mailing's pause, resume and cancel; each returns the outbox rows to publish.
ONE_OFF_CHANGES: Final[Mapping[str, mailings.Change]] = MappingProxyType({
    'pause': mailings.pause,
    'resume': mailings.resume,
    'cancel': mailings.cancel,
})


def schedule_name(notification_id: str) -> str:
    """The name of a recurring plan's schedule."""
    return '{0}{1}'.format(SCHEDULE_PREFIX, notification_id)


def _schedule_audience(audience: Mapping[str, Any]) -> dict[str, Any]:
    if audience.get(USER_IDS) is not None:
        return {KIND: USERS_KIND, USER_IDS: list(audience[USER_IDS])}
    return {KIND: SEGMENT, SEGMENT: str(audience.get(SEGMENT) or EVERYONE)}


def create_recurring(session: Session, notification: Notification, plan: MailingPlan, now: dt.datetime) -> Schedule:
    """The schedule of a launched cron plan, committed with whatever the session holds."""
    timing = plan.timing
    try:
        return create_schedule(session, {
            'name': schedule_name(notification.id),
            'cron': timing.cron,
            'interval_seconds': None,
            'timezone': timing.timezone,
            'notification_type': plan.notification_type,
            'template': plan.template,
            'locale': plan.locale,
            'channels': list(plan.channels),
            'audience': _schedule_audience(plan.audience),
            'schedule_fields': dict(plan.template_fields),
            'max_lateness_seconds': MAX_LATENESS_SECONDS,
            'start_at': now,
            'end_at': None,
            'enabled': True,
        }, now)
    except ScheduleNameTakenError:
        raise mailings.MailingStateError('the mailing was launched already: its schedule exists') from None


def recurring_schedule(session: Session, notification_id: str) -> Schedule | None:
    """The schedule of a recurring plan; ``None`` for a one-off mailing."""
    return session.scalar(select(Schedule).where(Schedule.name == schedule_name(notification_id)))


def fired_mailings(session: Session, schedule: Schedule) -> list[Mailing]:
    """The mailings a schedule's fires made, newest first."""
    fired = select(Notification.id).join(Occurrence, Notification.occurrence_id == Occurrence.id).where(
        Occurrence.schedule_id == schedule.id,
    )
    of_schedule = select(Mailing).where(Mailing.notification_id.in_(fired))
    return list(session.scalars(of_schedule.order_by(Mailing.started_at.desc())))


def _change_recurring(session: Session, mailing: Mailing, schedule: Schedule, action: str, now: dt.datetime) -> None:
    change = RECURRING_CHANGES[action]
    changed = session.execute(
        update(Mailing)
        .where(Mailing.notification_id == mailing.notification_id, Mailing.state.in_(change.allowed_from))
        .values(state=change.new_state)
        .execution_options(synchronize_session=False),
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(mailing)
        raise mailings.MailingStateError('the recurring mailing is {0}: it cannot {1}'.format(mailing.state, action))
    if change.new_state == MailingState.cancelled:
        session.execute(
            update(Notification)
            .where(Notification.id == mailing.notification_id)
            .values(status=NotificationStatus.cancelled)
            .execution_options(synchronize_session=False),
        )
    set_enabled(session, schedule, change.fires, now)
    session.refresh(mailing)


def change_mailing(session: Session, mailing: Mailing, action: str, now: dt.datetime) -> list[int]:
    """Pause, resume or cancel a mailing, one-off or recurring; returns the outbox rows to publish.

    Raises :class:`~notifier.services.mailings.MailingStateError` when the mailing's state does not allow it.
    """
    schedule = recurring_schedule(session, mailing.notification_id)
    if schedule is None:
        return ONE_OFF_CHANGES[action](session, mailing)
    _change_recurring(session, mailing, schedule, action, now)
    return []
