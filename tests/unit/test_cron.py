"""Fire times by the wall-clock rule, across daylight-saving changes, and intervals without drift."""

import datetime as dt

from notifier.cron import FireSpec, fire_times, is_valid_timezone, next_fire_after

UTC = dt.timezone.utc
EPOCH = dt.datetime(2000, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def daily(cron: str, zone: str) -> FireSpec:
    return FireSpec(start_at=EPOCH, cron=cron, timezone=zone)


def test_a_daily_time_in_moscow_is_three_hours_ahead_of_utc() -> None:
    assert next_fire_after(daily('0 9 * * *', 'Europe/Moscow'), utc(2026, 6, 1, 12)) == utc(2026, 6, 2, 6)


def test_new_york_spring_forward_fires_a_missing_time_after_the_jump() -> None:
    spec = daily('30 2 * * *', 'America/New_York')

    fires = fire_times(spec, next_fire_after(spec, utc(2026, 3, 7, 0)), utc(2026, 3, 10, 0), 10)

    # 02:30 EST (07:30 UTC), 03:30 EDT on the day 02:30 does not exist (07:30 UTC), 02:30 EDT (06:30 UTC)
    assert fires == [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]


def test_a_missing_time_and_the_time_it_lands_on_are_one_fire() -> None:
    spec = daily('30 2,3 * * *', 'America/New_York')

    fires = fire_times(spec, next_fire_after(spec, utc(2026, 3, 8, 0)), utc(2026, 3, 8, 23), 10)

    assert fires == [utc(2026, 3, 8, 7, 30)]


def test_new_york_fall_back_fires_a_repeated_time_once() -> None:
    spec = daily('30 1 * * *', 'America/New_York')

    fires = fire_times(spec, next_fire_after(spec, utc(2026, 11, 1, 0)), utc(2026, 11, 2, 12), 10)

    # 01:30 EDT on the day 01:30 happens twice (not 01:30 EST an hour later), then 01:30 EST
    assert fires == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]


def test_hourly_across_fall_back_skips_the_repeated_wall_clock_hour() -> None:
    spec = daily('0 * * * *', 'America/New_York')

    fires = fire_times(spec, utc(2026, 11, 1, 3), utc(2026, 11, 1, 8), 10)

    # 23:00 EDT, 00:00 EDT, 01:00 EDT, (01:00 EST is the same wall-clock time: skipped), 02:00 EST, 03:00 EST
    assert fires == [
        utc(2026, 11, 1, 3), utc(2026, 11, 1, 4), utc(2026, 11, 1, 5), utc(2026, 11, 1, 7), utc(2026, 11, 1, 8),
    ]


def test_moscow_2014_clock_change_repeats_an_hour_that_fires_once() -> None:
    spec = daily('30 1 * * *', 'Europe/Moscow')

    fires = fire_times(spec, next_fire_after(spec, utc(2014, 10, 25, 12)), utc(2014, 10, 27, 12), 10)

    # 26 Oct 2014: 02:00 MSK+4 became 01:00 MSK+3; 01:30 fires at its first occurrence (+4)
    assert fires == [utc(2014, 10, 25, 21, 30), utc(2014, 10, 26, 22, 30)]


def test_intervals_count_from_the_start_without_drift() -> None:
    spec = FireSpec(start_at=utc(2026, 1, 1), interval_seconds=90)

    assert next_fire_after(spec, utc(2025, 12, 31)) == utc(2026, 1, 1)
    assert next_fire_after(spec, utc(2026, 1, 1, 0, 0, 1)) == utc(2026, 1, 1, 0, 1, 30)
    assert next_fire_after(spec, utc(2026, 1, 1, 0, 15, 1)) == utc(2026, 1, 1, 0, 16, 30)


def test_no_fire_after_the_end() -> None:
    spec = FireSpec(start_at=utc(2026, 1, 1), interval_seconds=60, end_at=utc(2026, 1, 1, 0, 2))

    assert fire_times(spec, utc(2026, 1, 1), utc(2026, 1, 2), 100) == [
        utc(2026, 1, 1), utc(2026, 1, 1, 0, 1), utc(2026, 1, 1, 0, 2),
    ]
    assert next_fire_after(spec, utc(2026, 1, 1, 0, 2)) is None


def test_a_time_zone_name_too_long_for_a_file_name_is_not_a_zone() -> None:
    assert not is_valid_timezone('Europe/{0}'.format('x' * 300))
