"""The breaker as a state machine, on a fake clock: open, probe, slow start, closed."""

import pytest

from notifier.models import BreakerPhase
from notifier.resilience import BreakerChange, BreakerPolicy, CircuitBreaker
from tests.resilience.fakes import FakeClock

POLICY = BreakerPolicy(failures=3, probe_seconds=10, slow_start_fraction=0.1, slow_start_seconds=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def changes() -> list[BreakerChange]:
    return []


@pytest.fixture
def breaker(clock: FakeClock, changes: list[BreakerChange]) -> CircuitBreaker:
    made = CircuitBreaker('users.directory', POLICY, clock)
    made.listen(changes.append)
    return made


def _open(breaker: CircuitBreaker) -> None:
    for _ in range(POLICY.failures):
        breaker.failed('HTTP 503')


def _recovering(breaker: CircuitBreaker) -> None:
    _open(breaker)
    assert breaker.start_probe()
    breaker.succeeded()


def test_it_opens_after_the_configured_consecutive_failures(breaker: CircuitBreaker, changes: list) -> None:
    breaker.failed('HTTP 503')
    breaker.failed('HTTP 503')
    assert breaker.phase == BreakerPhase.closed
    assert breaker.allows_calls

    breaker.failed('timed out')

    assert breaker.phase == BreakerPhase.open
    assert not breaker.allows_calls
    assert changes == [BreakerChange('users.directory', 'open', '3 failures in a row, the last: timed out')]


def test_a_success_in_between_starts_the_count_again(breaker: CircuitBreaker) -> None:
    for _ in range(5):
        breaker.failed('HTTP 500')
        breaker.failed('HTTP 500')
        breaker.succeeded()

    assert breaker.phase == BreakerPhase.closed


def test_only_an_open_breaker_probes_and_a_failed_probe_opens_it_again(
    breaker: CircuitBreaker, changes: list,
) -> None:
    assert not breaker.start_probe()
    _open(breaker)

    assert breaker.start_probe()
    assert breaker.phase == BreakerPhase.probing
    assert breaker.allows_calls  # the probe itself goes through
    breaker.failed('connection refused')

    assert breaker.phase == BreakerPhase.open
    assert [change.phase for change in changes] == ['open', 'probing', 'open']
    assert changes[-1].detail == 'probe failed: connection refused'


def test_failures_reported_while_open_change_nothing(breaker: CircuitBreaker, changes: list) -> None:
    _open(breaker)
    breaker.failed('late answer of a call made before')
    breaker.succeeded()

    assert breaker.phase == BreakerPhase.open
    assert len(changes) == 1


def test_a_successful_probe_starts_slow_and_doubles_every_healthy_interval(
    breaker: CircuitBreaker, clock: FakeClock, changes: list,
) -> None:
    _recovering(breaker)
    factors = [breaker.rate_factor()]
    for _ in range(4):
        clock.advance(POLICY.slow_start_seconds)
        factors.append(breaker.rate_factor())

    assert factors == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0])
    assert breaker.phase == BreakerPhase.closed
    assert [(change.phase, change.detail) for change in changes[2:]] == [
        ('recovering', 'slow start at 10 % of the rate'),
        ('recovering', 'slow start at 20 % of the rate'),
        ('recovering', 'slow start at 40 % of the rate'),
        ('recovering', 'slow start at 80 % of the rate'),
        ('closed', 'recovered: back to the full rate'),
    ]


def test_an_interval_with_a_failure_does_not_double(breaker: CircuitBreaker, clock: FakeClock) -> None:
    _recovering(breaker)
    clock.advance(1)
    breaker.failed('HTTP 502')
    clock.advance(POLICY.slow_start_seconds - 1)

    assert breaker.rate_factor() == pytest.approx(0.1)
    clock.advance(POLICY.slow_start_seconds)
    assert breaker.rate_factor() == pytest.approx(0.2)


def test_failing_again_while_recovering_opens_it(breaker: CircuitBreaker) -> None:
    _recovering(breaker)
    _open(breaker)

    assert breaker.phase == BreakerPhase.open
    assert breaker.rate_factor() == pytest.approx(1)  # an open breaker refuses calls; it does not pace them


def test_a_long_quiet_recovery_catches_up_at_once(breaker: CircuitBreaker, clock: FakeClock) -> None:
    _recovering(breaker)
    clock.advance(POLICY.slow_start_seconds * 100)

    assert breaker.phase == BreakerPhase.closed
    assert breaker.rate_factor() == pytest.approx(1)
