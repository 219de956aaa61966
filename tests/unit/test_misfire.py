"""The misfire policies and max lateness, decided from the due fire times and the clock."""

import datetime as dt

from notifier.scheduler.misfire import plan_fires

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOURLY_MISSED = [NOW - dt.timedelta(hours=hours) for hours in (3, 2, 1)]
ON_TIME = NOW - dt.timedelta(seconds=5)


def test_fire_all_fires_every_missed_time() -> None:
    fire_plan = plan_fires([*HOURLY_MISSED, ON_TIME], NOW, 'fire_all', None)

    assert fire_plan.fire == [*HOURLY_MISSED, ON_TIME]
    assert fire_plan.skip == []


def test_fire_once_fires_the_latest_missed_time_only() -> None:
    fire_plan = plan_fires(HOURLY_MISSED, NOW, 'fire_once', None)

    assert fire_plan.fire == HOURLY_MISSED[-1:]
    assert [fire_at for fire_at, _ in fire_plan.skip] == HOURLY_MISSED[:-1]
    assert 'fire_once' in fire_plan.skip[0][1]


def test_skip_fires_only_what_is_on_time() -> None:
    fire_plan = plan_fires([*HOURLY_MISSED, ON_TIME], NOW, 'skip', None)

    assert fire_plan.fire == [ON_TIME]
    assert len(fire_plan.skip) == 3


def test_max_lateness_drops_what_is_too_late_whatever_the_policy() -> None:
    fire_plan = plan_fires(HOURLY_MISSED, NOW, 'fire_all', dt.timedelta(minutes=90))

    assert fire_plan.fire == HOURLY_MISSED[-1:]
    reasons = {reason for _, reason in fire_plan.skip}
    assert len(fire_plan.skip) == 2
    assert reasons == {'later than the max lateness of 5400s'}
