"""What is due of a schedule at a moment: the fire times to fire and to skip, and the next fire time.

A fire time that has an occurrence already (an operator's run-now in that
second, or another scheduler) is done: it is left out of the plan, so it
never clashes with ``UNIQUE(schedule_id, fire_at)`` and the schedule moves on.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.cron import fire_times, next_fire_after
from notifier.models import Occurrence, Schedule
from notifier.scheduler.misfire import FirePlan, plan_fires
from notifier.services.schedules import fire_spec

#: At most this many past fire times are looked at per schedule and pass (fire_all after a long outage).
MAX_CATCH_UP = 1000


@dataclass(frozen=True)
class DuePlan:
    """The due fire times of one schedule, less those already recorded, and where it goes next."""

    fire_plan: FirePlan
    next_fire_at: dt.datetime | None
    recorded: int

    @property
    def fire_times(self) -> list[dt.datetime]:
        """Every fire time the plan writes an occurrence for."""
        return [*self.fire_plan.fire, *(fire_at for fire_at, _ in self.fire_plan.skip)]


def locked_due(session: Session, schedule_id: str, now: dt.datetime) -> Schedule | None:
    """The schedule, locked, if it is still enabled and due (``SKIP LOCKED``: another scheduler has it)."""
    return session.scalars(
        select(Schedule)
        .where(Schedule.id == schedule_id, Schedule.enabled.is_(True), Schedule.next_fire_at <= now)
        .with_for_update(skip_locked=True),
    ).first()


def recorded_times(session: Session, schedule_id: str, candidates: list[dt.datetime]) -> set[dt.datetime]:
    """Those of ``candidates`` that have an occurrence of the schedule already."""
    if not candidates:
        return set()
    return set(session.scalars(
        select(Occurrence.fire_at).where(Occurrence.schedule_id == schedule_id, Occurrence.fire_at.in_(candidates)),
    ).all())


def due_plan(session: Session, schedule: Schedule, now: dt.datetime) -> DuePlan:
    """What to do with the fire times of ``schedule`` due by ``now`` (raises ValueError on a broken timing)."""
    spec = fire_spec(schedule)
    due = fire_times(spec, schedule.next_fire_at or now, now, MAX_CATCH_UP)
    max_lateness = dt.timedelta(seconds=schedule.max_lateness_seconds) if schedule.max_lateness_seconds else None
    recorded = recorded_times(session, schedule.id, due)
    fire_plan = _without(plan_fires(due, now, schedule.misfire_policy, max_lateness), recorded)
    next_fire_at = next_fire_after(spec, due[-1] if due else now)
    return DuePlan(fire_plan, next_fire_at, len(recorded))


def _without(planned: FirePlan, recorded: set[dt.datetime]) -> FirePlan:
    return FirePlan(
        fire=[fire_at for fire_at in planned.fire if fire_at not in recorded],
        skip=[(fire_at, reason) for fire_at, reason in planned.skip if fire_at not in recorded],
    )
