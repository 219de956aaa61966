"""A scheduler pass over the due schedules: each in its own transaction, none able to stop the others.

See :mod:`notifier.scheduler.failures` for how a schedule that cannot fire
is told apart from a race and from a database outage.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models import Schedule
from notifier.scheduler.failures import DATABASE_OUTAGE, lost_a_race, reason_of, set_aside
from notifier.scheduler.firing import fire_schedule
from notifier.scheduler.planning import DuePlan, due_plan, locked_due

logger = logging.getLogger(__name__)

SCHEDULES_PER_PASS = 100


@dataclass(frozen=True)
class Fired:
    """What one pass did."""

    outbox_ids: list[int]
    fired: int
    skipped: int
    failed: int = 0


@dataclass
class _Tally:
    outbox_ids: list[int]
    fired: int = 0
    skipped: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Attempt:
    schedule_id: str
    name: str
    now: dt.datetime


def _fire_one(session: Session, schedule_id: str, now: dt.datetime, tally: _Tally) -> None:
    schedule = locked_due(session, schedule_id, now)
    if schedule is None:
        session.rollback()
        return
    attempt = _Attempt(schedule_id, schedule.name, now)
    plan: DuePlan | None = None
    try:
        plan = due_plan(session, schedule, now)
        new_rows = fire_schedule(session, schedule, plan)
        session.commit()
    except DATABASE_OUTAGE as error:
        session.rollback()  # raises when the connection is gone: the pass ends, the loop tries again
        logger.warning('schedule %s: the database failed, trying again next pass: %s', attempt.name, reason_of(error))
        return
    except Exception as error:  # noqa: B902 - one schedule that cannot fire must not stop the others
        session.rollback()
        tally.failed += _after_failure(session, error, attempt, plan)
        return
    tally.outbox_ids.extend(new_rows)
    tally.fired += len(plan.fire_plan.fire)
    tally.skipped += len(plan.fire_plan.skip)


def _after_failure(session: Session, error: Exception, attempt: _Attempt, plan: DuePlan | None) -> int:
    """A race moves on next pass; anything else sets the due fire times aside. Returns how many failed."""
    if lost_a_race(session, error, attempt.schedule_id, plan):
        session.rollback()
        logger.info('schedule %s: another scheduler (or run-now) fired this occurrence first; moving on', attempt.name)
        return 0
    reason = reason_of(error)
    logger.error('schedule %s cannot fire, its due fire times are set aside as failed: %s', attempt.name, reason)
    try:
        return set_aside(session, attempt.schedule_id, attempt.now, reason)
    except DATABASE_OUTAGE:
        raise
    except Exception as unrecorded:  # noqa: B902 - still, the other schedules go on
        session.rollback()
        logger.error('schedule %s: recording its failure failed too: %s', attempt.name, reason_of(unrecorded))
        return 0


def fire_due(session: Session, now: dt.datetime) -> Fired:
    """Fire every due schedule once; safe with several schedulers at once, and with schedules that cannot fire."""
    due_ids = session.scalars(
        select(Schedule.id)
        .where(Schedule.enabled.is_(True), Schedule.next_fire_at <= now)
        .order_by(Schedule.next_fire_at)
        .limit(SCHEDULES_PER_PASS),
    ).all()
    session.rollback()
    tally = _Tally(outbox_ids=[])
    for schedule_id in due_ids:
        _fire_one(session, schedule_id, now, tally)
    return Fired(tally.outbox_ids, tally.fired, tally.skipped, tally.failed)
