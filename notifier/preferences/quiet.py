"""Quiet hours: a local time window, possibly across midnight, in the recipient's time zone."""

import datetime as dt
import re
import zoneinfo
from typing import Final

CLOCK_TIME: Final = re.compile(r'^([01]\d|2[0-3]):[0-5]\d$')


def parse_clock(text: str) -> dt.time:
    """``HH:MM`` (24-hour) as a time; raises ValueError otherwise."""
    if not CLOCK_TIME.match(text):
        raise ValueError('{0!r} is not a time like 22:00'.format(text))
    hours, minutes = text.split(':')
    return dt.time(int(hours), int(minutes))


def zone_named(name: str | None) -> dt.tzinfo:
    """The IANA time zone ``name``; UTC when there is none or it is unknown."""
    if not name:
        return dt.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def quiet_until(now: dt.datetime, start: dt.time, end: dt.time, zone: dt.tzinfo) -> dt.datetime | None:
    """When the quiet hours that hold ``now`` end (aware UTC), or ``None`` outside them.

    ``22:00``-``08:00`` spans midnight; equal start and end mean no quiet hours.
    """
    if start == end:
        return None
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
    else:
        inside = clock >= start or clock < end
    if not inside:
        return None
    next_day = local.date() + dt.timedelta(days=1)
    end_day = local.date() if clock < end else next_day
    return dt.datetime.combine(end_day, end, tzinfo=zone).astimezone(dt.timezone.utc)
