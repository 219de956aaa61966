"""The arithmetic of limits that are totals: grants from one bucket shared by several limiters, on a fake clock.

The bucket here is the in-memory twin of the ``rate_buckets`` row (:func:`notifier.ratebuckets.reserve`, the
rule the SQL statement applies); ``test_shared_limits.py`` runs the real one in PostgreSQL with real processes.
"""

import heapq

import pytest

from notifier.ratebuckets import GRANT_TTL_SECONDS, MAX_GRANT, SHARED_BURST_SECONDS, grant_size, reserve
from notifier.ratelimit import Limiter
from tests.resilience.fakes import FakeClock

LIMIT = 'channel.email.send'
RATE = 200.0


class MemoryBuckets:
    """Shared buckets in a dict, on the fake clock; counts the reservations."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.next_free: dict[str, float] = {}
        self.reservations = 0
        self.closed = False

    def __call__(self, name: str, count: int, rate: float) -> float:
        self.reservations += 1
        span = count / rate
        now = self.clock()
        self.next_free[name] = reserve(self.next_free.get(name), now, span, SHARED_BURST_SECONDS)
        return self.next_free[name] - span - now

    def close(self) -> None:
        self.closed = True


def _no_sleep(seconds: float) -> None:
    """The simulation below moves the clock itself."""


def _limiters(clock: FakeClock, buckets: MemoryBuckets, count: int, rates: dict[str, float]) -> list[Limiter]:
    lookup = rates.copy
    return [Limiter(lookup, sleep=_no_sleep, clock=clock, shared=buckets) for _ in range(count)]


def _tokens_between(used: dict[str, list[float]], low: float, high: float) -> int:
    return sum(low <= moment < high for moments in used.values() for moment in moments)


def _run(
    clock: FakeClock, limiters: dict[str, Limiter], until: float, stop_at: dict[str, float],
) -> dict[str, list[float]]:
    """Each limiter takes tokens as fast as they come until ``until`` (or its ``stop_at``); when each was used."""
    used: dict[str, list[float]] = {name: [] for name in limiters}
    ready = [(clock.now, name) for name in sorted(limiters)]
    heapq.heapify(ready)
    while ready:
        moment, name = heapq.heappop(ready)
        if moment >= min(until, stop_at.get(name, until)):
            continue
        clock.now = moment
        use_at = moment + limiters[name].acquire(LIMIT)
        if use_at < until:
            used[name].append(use_at)
        heapq.heappush(ready, (use_at, name))
    return used


@pytest.mark.parametrize(('rate', 'expected'), [(0.5, 1), (20, 1), (200, 10), (700, 35), (100000, MAX_GRANT)])
def test_a_grant_is_a_twentieth_of_a_second_s_tokens_at_least_one_at_most_fifty(rate: float, expected: int) -> None:
    assert grant_size(rate) == expected


def test_a_new_bucket_starts_now_a_busy_one_queues_an_idle_one_saved_at_most_a_burst() -> None:
    assert reserve(None, now=100, span=0.05, burst=1) == pytest.approx(100.05)
    assert reserve(100.4, now=100, span=0.05, burst=1) == pytest.approx(100.45)  # after the others' grants
    assert reserve(95.0, now=100, span=0.05, burst=1) == pytest.approx(99.05)  # a second saved up, not five


@pytest.mark.parametrize('processes', [1, 2, 3, 5])
def test_the_total_of_all_limiters_is_the_rate_whatever_their_number(processes: int) -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiters = dict(enumerate(_limiters(clock, buckets, processes, {LIMIT: RATE})))
    start = clock.now

    used = _run(clock, {str(key): limiter for key, limiter in limiters.items()}, start + 30, {})

    total = sum(len(moments) for moments in used.values())
    grant = grant_size(RATE)
    assert RATE * 30 <= total <= RATE * 30 + grant * processes  # the grants still held at the end
    assert all(len(moments) > RATE * 30 / processes / 2 for moments in used.values())  # every one gets a share
    assert buckets.reservations <= total / grant + processes  # one reservation per grant, not per token


def test_a_stopped_limiter_s_share_goes_to_the_others_at_once() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiters = {str(key): limiter for key, limiter in enumerate(_limiters(clock, buckets, 3, {LIMIT: RATE}))}
    start = clock.now

    used = _run(clock, limiters, start + 20, {'2': start + 10})

    grant = grant_size(RATE)
    assert RATE * 10 - grant <= _tokens_between(used, start, start + 10) <= RATE * 10 + grant * 3
    # The dead one held at most one grant it never used: the two others take the whole rate from then on.
    assert RATE * 10 - grant <= _tokens_between(used, start + 10, start + 20) <= RATE * 10 + grant * 2
    after = [sum(moment >= start + 10 for moment in used[name]) for name in ('0', '1')]
    assert min(after) > RATE * 10 / 3


def test_after_every_limiter_stalled_the_catch_up_is_at_most_a_short_burst() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiters = {str(key): limiter for key, limiter in enumerate(_limiters(clock, buckets, 3, {LIMIT: RATE}))}
    start = clock.now
    _run(clock, limiters, start + 10, {})
    clock.now = start + 15  # nothing to send for five seconds: the bucket fell behind

    used = _run(clock, limiters, start + 25, {})

    total = sum(len(moments) for moments in used.values())
    assert total <= RATE * (10 + SHARED_BURST_SECONDS) + grant_size(RATE) * 3


def test_slow_start_of_a_configured_limit_paces_the_total_at_the_breaker_s_fraction() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiters = _limiters(clock, buckets, 3, {LIMIT: RATE})
    for limiter in limiters:
        limiter.slow_start(LIMIT, lambda: 0.1)
    start = clock.now

    used = _run(clock, {str(key): limiter for key, limiter in enumerate(limiters)}, start + 30, {})

    total = sum(len(moments) for moments in used.values())
    assert RATE * 0.1 * 30 <= total <= RATE * 0.1 * 30 + grant_size(RATE * 0.1) * 3


def test_slow_start_of_an_unconfigured_limit_stays_in_the_process_and_costs_no_reservation() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiter = _limiters(clock, buckets, 1, {})[0]
    limiter.slow_start('users.directory', lambda: 0.1)

    assert limiter.rate_of('users.directory') == pytest.approx(1.0)  # measured nothing: the floor
    limiter.acquire('users.directory')
    limiter.acquire('channel.sms.send')  # no limit at all

    assert buckets.reservations == 0


def test_tokens_of_a_grant_left_unused_go_stale_instead_of_adding_to_a_later_burst() -> None:
    clock = FakeClock()
    buckets = MemoryBuckets(clock)
    limiter = _limiters(clock, buckets, 1, {LIMIT: RATE})[0]
    limiter.acquire(LIMIT)
    limiter.acquire(LIMIT)
    assert buckets.reservations == 1  # the second token came from the same grant

    clock.advance(GRANT_TTL_SECONDS)
    limiter.acquire(LIMIT)

    assert buckets.reservations == 2


def test_closing_the_limiter_closes_its_shared_buckets() -> None:
    buckets = MemoryBuckets(FakeClock())
    limiter = _limiters(buckets.clock, buckets, 1, {})[0]

    limiter.close()

    assert buckets.closed
