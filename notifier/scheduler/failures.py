"""A schedule that cannot fire: told apart from a race and from a database outage, and set aside with its reason.

- **A race.** An occurrence appeared meanwhile for a time this pass was
  firing (an operator's ``run-now`` in the same second, or a scheduler not
  taking the row lock): that time is done; the next pass leaves it out and
  the schedule moves on.
- **A database outage** (the connection failed): nothing is recorded, the
  schedule is tried again next pass.
- **Anything else** (a value the database refuses, an unknown notification
  type, a clash with a notification that is not this fire's): the due fire
  times are recorded as ``failed`` occurrences with the reason, the schedule
  keeps the reason in ``failure`` and moves on to its next fire time. It
  never blocks the schedules behind it; an operator fixes it and, if that
  fire still matters, runs ``notifier schedules run-now``.
"""

import datetime as dt
from typing import Final

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from notifier.models import Occurrence, OccurrenceState, Schedule
from notifier.scheduler.planning import DuePlan, due_plan, locked_due, recorded_times

#: The database connection failed: try the schedule again next pass.
DATABASE_OUTAGE: Final = (OperationalError, InterfaceError)
MAX_REASON_LENGTH: Final = 1000


class CannotFireError(ValueError):
    """A schedule names something the scheduler cannot fire (its message is the reason)."""


def reason_of(error: Exception) -> str:
    """One line saying why: a database error's own message without its SQL, else the error."""
    if isinstance(error, CannotFireError):
        named = str(error)
    else:
        named = _named(error)
    return named.replace('\x00', '')[:MAX_REASON_LENGTH]  # PostgreSQL stores no NUL in text


def _named(error: Exception) -> str:
    """The error's class and the first line of its message (a database error's own, without the SQL)."""
    original = error.orig if isinstance(error, DBAPIError) else None
    lines = str(original or error).strip().splitlines()
    if not lines:
        return type(error).__name__
    return '{0}: {1}'.format(type(error).__name__, lines[0])


def lost_a_race(session: Session, error: Exception, schedule_id: str, attempted: DuePlan | None) -> bool:
    """Whether ``error`` (its transaction rolled back) means another writer recorded a time we were firing."""
    if not isinstance(error, IntegrityError) or attempted is None:
        return False
    return bool(recorded_times(session, schedule_id, attempted.fire_times))


def _pause(schedule: Schedule, error: Exception) -> None:
    schedule.enabled = False
    schedule.next_fire_at = None
    schedule.failure = 'paused: its fire times cannot be computed ({0})'.format(reason_of(error))


def set_aside(session: Session, schedule_id: str, now: dt.datetime, reason: str) -> int:
    """Record the due fire times of a schedule that failed as ``failed`` and move it on; commits.

    Returns how many fire times failed. A schedule whose fire times cannot even
    be computed is paused with the reason.
    """
    schedule = locked_due(session, schedule_id, now)
    if schedule is None:
        session.rollback()
        return 0
    schedule.failure = reason
    schedule.failed_at = now
    try:
        plan = due_plan(session, schedule, now)
    except (ValueError, KeyError) as error:  # ZoneInfoNotFoundError is a KeyError
        _pause(schedule, error)
        session.commit()
        return 0
    for fire_at, skip_reason in plan.fire_plan.skip:
        session.add(Occurrence(
            schedule_id=schedule_id, fire_at=fire_at, state=OccurrenceState.skipped, reason=skip_reason,
        ))
    for fire_at in plan.fire_plan.fire:
        session.add(Occurrence(schedule_id=schedule_id, fire_at=fire_at, state=OccurrenceState.failed, reason=reason))
    schedule.next_fire_at = plan.next_fire_at
    session.commit()
    return len(plan.fire_plan.fire)
