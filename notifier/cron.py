"""Fire times of a schedule, in its time zone.

The wall-clock rule, for daylight-saving changes in the schedule's zone:
each wall-clock time the cron expression names fires once. A time that does
not exist (the clock jumps from 02:00 to 03:00) fires at the same distance
after the jump (02:30 fires at 03:30); if that instant is also named by the
expression, the two are one fire. A time that exists twice (the clock goes
back from 02:00 to 01:00) fires at its first occurrence only. Interval
schedules count seconds in UTC from their start and ignore the zone.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

_UTC = dt.timezone.utc
_EPSILON = dt.timedelta(microseconds=1)
#: Enough steps to cross any DST overlap without looping for ever on a bad expression.
_MAX_CRON_STEPS = 1000


@dataclass(frozen=True)
class FireSpec:
    """When a schedule fires: a cron expression in a zone, or an interval; within start and end."""

    start_at: dt.datetime
    cron: str | None = None
    interval_seconds: int | None = None
    timezone: str = 'UTC'
    end_at: dt.datetime | None = None


def is_valid_cron(expression: str) -> bool:
    """Whether croniter understands the expression (five fields, or six with seconds)."""
    return bool(croniter.is_valid(expression))


def is_valid_timezone(name: str) -> bool:
    """Whether the IANA zone exists on this machine."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        return False
    return True


def _next_interval(spec: FireSpec, interval: int, after: dt.datetime) -> dt.datetime:
    if after < spec.start_at:
        return spec.start_at
    periods = int((after - spec.start_at).total_seconds() // interval) + 1
    return spec.start_at + dt.timedelta(seconds=periods * interval)


def _next_cron(expression: str, zone: ZoneInfo, after: dt.datetime) -> dt.datetime:
    wall_clock = after.astimezone(zone).replace(tzinfo=None)
    iterator = croniter(expression, wall_clock)
    for _ in range(_MAX_CRON_STEPS):
        candidate_wall_clock: dt.datetime = iterator.get_next(dt.datetime)
        candidate = candidate_wall_clock.replace(tzinfo=zone, fold=0).astimezone(_UTC)
        if candidate > after:
            return candidate
    raise ValueError('cron expression {0!r} yields no time after {1}'.format(expression, after))


def next_fire_after(spec: FireSpec, after: dt.datetime) -> dt.datetime | None:
    """The first fire time strictly after ``after`` (UTC), or None once the schedule has ended."""
    after = max(after, spec.start_at - _EPSILON)
    if spec.interval_seconds:
        candidate = _next_interval(spec, spec.interval_seconds, after)
    elif spec.cron:
        candidate = _next_cron(spec.cron, ZoneInfo(spec.timezone), after)
    else:
        raise ValueError('a schedule needs a cron expression or an interval')
    if spec.end_at is not None and candidate > spec.end_at:
        return None
    return candidate


def fire_times(spec: FireSpec, first: dt.datetime, until: dt.datetime, limit: int) -> list[dt.datetime]:
    """Fire times from ``first`` (included) to ``until`` (included), at most ``limit``, oldest first."""
    found: list[dt.datetime] = []
    candidate: dt.datetime | None = first
    while candidate is not None and candidate <= until and len(found) < limit:
        found.append(candidate)
        candidate = next_fire_after(spec, candidate)
    return found
