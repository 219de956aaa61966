"""An operator's ``notifier schedules run-now``: one extra occurrence at the current second.

The schedule's row is locked first (PostgreSQL), so a scheduler firing the
same second finishes before it (and run-now says that second fired already)
or after it (and leaves that second out, see :mod:`notifier.scheduler.planning`).
"""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import Occurrence, OccurrenceState, Schedule
from notifier.scheduler.firing import apply_plan
from notifier.scheduler.misfire import FirePlan


class AlreadyFiredError(ValueError):
    """``run-now`` in a second that has an occurrence already: nothing more is sent."""


def fire_now(session: Session, schedule: Schedule, now: dt.datetime) -> int:
    """Fire one extra occurrence at ``now`` (an operator's run-now); returns how many notifications.

    The schedule's row is locked first, so a scheduler firing the same second
    finishes before (and this raises :class:`AlreadyFiredError`) or after (and leaves that second out).
    """
    fire_at = now.replace(microsecond=0)
    name = schedule.name
    lock = select(Schedule.id).where(Schedule.id == schedule.id).with_for_update()
    session.scalars(lock).one()
    try:
        return _fire_second(session, schedule, fire_at)
    except AlreadyFiredError as refused:
        session.rollback()
        raise AlreadyFiredError('{0} {1}; nothing more was sent'.format(name, refused)) from None


def _fire_second(session: Session, schedule: Schedule, fire_at: dt.datetime) -> int:
    schedule_id = schedule.id
    _refuse_a_recorded_second(session, schedule_id, fire_at)
    try:
        outbox_ids = apply_plan(session, schedule, FirePlan(fire=[fire_at]))
        session.commit()
    except IntegrityError:  # SQLite takes no row lock: the scheduler may have inserted that second meanwhile
        session.rollback()
        _refuse_a_recorded_second(session, schedule_id, fire_at)
        raise
    return len(outbox_ids)


def _refuse_a_recorded_second(session: Session, schedule_id: str, fire_at: dt.datetime) -> None:
    recorded = session.scalar(
        select(Occurrence.state).where(Occurrence.schedule_id == schedule_id, Occurrence.fire_at == fire_at),
    )
    if recorded is not None:
        raise AlreadyFiredError('already {0} at {1}'.format(
            'fired' if recorded == OccurrenceState.fired else 'had an occurrence', fire_at.isoformat(),
        ))
