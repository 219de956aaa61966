"""Which due fire times of a schedule fire, and which are skipped, and why.

A fire time handled within :data:`MISFIRE_GRACE` of its time is on time. An
older one was missed (no scheduler ran): the schedule's misfire policy
decides, and ``max_lateness`` drops any fire that would now be too late (a
daily digest due two days ago is not sent).
"""

import datetime as dt
from dataclasses import dataclass, field

from notifier.models import MisfirePolicy

MISFIRE_GRACE_SECONDS = 30
MISFIRE_GRACE = dt.timedelta(seconds=MISFIRE_GRACE_SECONDS)


@dataclass(frozen=True)
class FirePlan:
    """The decision for the due fire times of one schedule."""

    fire: list[dt.datetime] = field(default_factory=list)
    skip: list[tuple[dt.datetime, str]] = field(default_factory=list)


def _by_policy(missed: list[dt.datetime], policy: str) -> FirePlan:
    if policy == MisfirePolicy.fire_all:
        return FirePlan(fire=list(missed))
    if policy == MisfirePolicy.fire_once:
        return FirePlan(
            fire=missed[-1:],
            skip=[(fire_at, 'missed; fire_once fired the latest missed time only') for fire_at in missed[:-1]],
        )
    return FirePlan(skip=[(fire_at, 'missed; misfire policy is skip') for fire_at in missed])


def plan_fires(
    due: list[dt.datetime], now: dt.datetime, policy: str, max_lateness: dt.timedelta | None,
) -> FirePlan:
    """Split the due fire times into those to fire and those to skip (with the reason)."""
    on_time = [fire_at for fire_at in due if now - fire_at <= MISFIRE_GRACE]
    missed = [fire_at for fire_at in due if now - fire_at > MISFIRE_GRACE]
    by_policy = _by_policy(missed, policy)
    fire: list[dt.datetime] = []
    skip = list(by_policy.skip)
    for fire_at in sorted(by_policy.fire + on_time):
        if max_lateness is not None and now - fire_at > max_lateness:
            skip.append((fire_at, 'later than the max lateness of {0}s'.format(int(max_lateness.total_seconds()))))
        else:
            fire.append(fire_at)
    return FirePlan(fire=fire, skip=sorted(skip))
