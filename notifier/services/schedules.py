"""Creating and changing schedules; every change recomputes the next fire time from the schedule.

Pausing stops fires; resuming carries on from the next fire time after the
resume (fires that fell in the pause are not caught up: a pause is a pause).
"""

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.cron import FireSpec, next_fire_after
from notifier.models import Schedule

#: API field name -> model attribute, where they differ.
_RENAMED: Mapping[str, str] = MappingProxyType({'notification_type': 'type', 'schedule_fields': 'fields'})


class ScheduleNameTakenError(ValueError):
    """Schedule names are unique."""


def fire_spec(schedule: Schedule) -> FireSpec:
    """The timing part of a schedule."""
    return FireSpec(
        start_at=schedule.start_at,
        cron=schedule.cron,
        interval_seconds=schedule.interval_seconds,
        timezone=schedule.timezone,
        end_at=schedule.end_at,
    )


def as_loaded(schedule: Schedule) -> dict[str, Any]:
    """A schedule in the shape the schema loads, to validate it whole after a partial change."""
    return {
        'cron': schedule.cron,
        'interval_seconds': schedule.interval_seconds,
        'start_at': schedule.start_at,
        'end_at': schedule.end_at,
    }


def _assign(schedule: Schedule, changes: Mapping[str, Any], now: dt.datetime) -> None:
    for field_name, field_value in changes.items():
        setattr(schedule, _RENAMED.get(field_name, field_name), field_value)
    if changes.get('start_at', 'kept') is None:
        schedule.start_at = now  # the schema's default for "from now on"
    schedule.next_fire_at = next_fire_after(fire_spec(schedule), now) if schedule.enabled else None


def _commit(session: Session, schedule: Schedule) -> Schedule:
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ScheduleNameTakenError('a schedule named {0!r} exists already'.format(schedule.name)) from None
    return schedule


def create_schedule(session: Session, loaded: Mapping[str, Any], now: dt.datetime) -> Schedule:
    """Store a validated schedule, due at its first fire time after ``now``."""
    schedule = Schedule()
    _assign(schedule, loaded, now)
    session.add(schedule)
    return _commit(session, schedule)


def update_schedule(session: Session, schedule: Schedule, changes: Mapping[str, Any], now: dt.datetime) -> Schedule:
    """Apply validated changes; the next fire time follows the (new) timing from ``now``."""
    _assign(schedule, changes, now)
    return _commit(session, schedule)


def set_enabled(session: Session, schedule: Schedule, enabled: bool, now: dt.datetime) -> Schedule:
    """Pause or resume."""
    return update_schedule(session, schedule, {'enabled': enabled}, now)
