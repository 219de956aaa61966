"""Token buckets on a fake clock: per-domain names, run-time rates, the slow start of a breaker."""

import os

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from notifier.models import BreakerState
from notifier.ratelimit import MIN_SLOW_START_RATE, Limiter, send_limits
from notifier.resilience import BreakerChange, BreakerRecorder
from notifier.settings import load_settings
from notifier.errors import SettingsError
from tests.resilience.fakes import FakeClock


class Rates:
    """The ``rate_limits`` table as a dict; counts the reads."""

    def __init__(self, rates: dict[str, float] | None = None) -> None:
        self.rates = dict(rates or {})
        self.reads = 0

    def __call__(self) -> dict[str, float]:
        self.reads += 1
        return dict(self.rates)


def _limiter(clock: FakeClock, rates: Rates) -> Limiter:
    return Limiter(rates, sleep=clock.sleep, clock=clock)


def _seconds_for(limiter: Limiter, clock: FakeClock, name: str, count: int) -> float:
    start = clock.now
    for _ in range(count):
        limiter.acquire(name)
    return clock.now - start


@pytest.mark.parametrize(('channel', 'recipient', 'expected'), [
    ('email', 'vasya@Example.COM', ['channel.email.send', 'channel.email.domain.example.com.send']),
    ('email', 'odd@mail.example.org.', ['channel.email.send', 'channel.email.domain.mail.example.org.send']),
    ('sms', '+79990001122', ['channel.sms.send']),
    ('email', 'who@почта.рф', ['channel.email.send']),  # not a name the API accepts: no domain limit
    ('email', 'broken@', ['channel.email.send']),
])
def test_a_send_takes_the_channel_s_limit_and_its_recipient_domain_s(
    channel: str, recipient: str, expected: list[str],
) -> None:
    assert send_limits(channel, recipient) == expected


def test_a_domain_limit_paces_that_domain_only() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, Rates({'channel.email.domain.slow.example.send': 2.0}))

    fast = _seconds_for(limiter, clock, 'channel.email.domain.fast.example.send', 20)
    slow = sum(limiter.acquire_all(send_limits('email', 'x@slow.example')) for _ in range(9))

    assert fast == 0
    assert slow == pytest.approx(4.5)  # no saved tokens at first: one every half second


def test_the_rates_are_read_again_every_two_seconds_not_on_every_call() -> None:
    clock = FakeClock()
    rates = Rates({'generator.publish': 10.0})
    limiter = _limiter(clock, rates)
    limiter.acquire('generator.publish')
    assert rates.reads == 1
    rates.rates['generator.publish'] = 1000.0

    assert limiter.rate_of('generator.publish') == pytest.approx(10)
    clock.advance(2)
    assert limiter.rate_of('generator.publish') == pytest.approx(1000)
    assert rates.reads == 2


def test_slow_start_scales_a_configured_rate() -> None:
    clock = FakeClock()
    factor = [0.1]
    limiter = _limiter(clock, Rates({'channel.email.send': 100.0}))
    limiter.slow_start('channel.email.send', lambda: factor[0])

    assert limiter.rate_of('channel.email.send') == pytest.approx(10.0)
    assert _seconds_for(limiter, clock, 'channel.email.send', 21) == pytest.approx(2.0, abs=0.15)
    factor[0] = 1.0
    assert limiter.rate_of('channel.email.send') == pytest.approx(100)


def test_slow_start_of_an_unlimited_name_ramps_towards_the_rate_measured_while_healthy() -> None:
    clock = FakeClock()
    factor = [1.0]
    limiter = _limiter(clock, Rates())
    limiter.slow_start('users.directory', lambda: factor[0])
    for _ in range(301):  # 50 calls a second for six seconds
        limiter.acquire('users.directory')
        clock.advance(0.02)
    assert limiter.rate_of('users.directory') is None

    factor[0] = 0.1

    assert limiter.rate_of('users.directory') == pytest.approx(5.0, rel=0.05)


def test_slow_start_never_paces_below_the_floor_unless_the_configured_rate_is_lower() -> None:
    limiter = _limiter(FakeClock(), Rates({'channel.push.send': 0.5, 'channel.email.send': 5.0}))
    for name in ('channel.sms.send', 'channel.push.send', 'channel.email.send'):
        limiter.slow_start(name, lambda: 0.1)

    assert limiter.rate_of('channel.sms.send') == pytest.approx(MIN_SLOW_START_RATE)  # nothing measured yet
    assert limiter.rate_of('channel.push.send') == pytest.approx(0.5)
    assert limiter.rate_of('channel.email.send') == pytest.approx(MIN_SLOW_START_RATE)


def test_the_recorder_upserts_one_row_per_breaker_and_process() -> None:
    engine = sqlalchemy.create_engine('sqlite://')
    BreakerState.metadata.create_all(engine, tables=[BreakerState.__table__])  # type: ignore[list-item]
    recorder = BreakerRecorder(lambda: Session(engine), holder='host-a:42')

    recorder.record(BreakerChange('channel.email', 'open', '3 failures in a row, the last: SMTP 451'))
    recorder.record(BreakerChange('channel.email', 'recovering', 'slow start at 10 % of the rate'))
    recorder.record(BreakerChange('users.directory', 'open', 'x' * 5000))

    with Session(engine) as session:
        rows = session.scalars(sqlalchemy.select(BreakerState).order_by(BreakerState.name)).all()
        found = [(row.name, row.holder, row.phase, len(row.detail or '')) for row in rows]
    assert found == [
        ('channel.email', 'host-a:42', 'recovering', len('slow start at 10 % of the rate')),
        ('users.directory', 'host-a:42', 'open', 1000),
    ]


def test_a_database_that_does_not_answer_costs_the_recorder_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    engine = sqlalchemy.create_engine('sqlite://')  # no breaker_states table
    recorder = BreakerRecorder(lambda: Session(engine))

    recorder.record(BreakerChange('channel.email', 'open', 'SMTP 451'))

    assert 'circuit breaker channel.email is open: SMTP 451' in caplog.text
    assert 'could not record circuit breaker channel.email' in caplog.text
    assert recorder.holder.endswith(':{0}'.format(os.getpid()))


@pytest.mark.parametrize(('setting', 'bad_value'), [
    ('NOTIFIER_BREAKER_FAILURES', '0'),
    ('NOTIFIER_BREAKER_PROBE_SECONDS', '-1'),
    ('NOTIFIER_BREAKER_SLOW_START_FRACTION', '0'),
    ('NOTIFIER_BREAKER_SLOW_START_FRACTION', '1.5'),
    ('NOTIFIER_BREAKER_SLOW_START_SECONDS', 'soon'),
])
def test_bad_breaker_settings_are_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, setting: str, bad_value: str,
) -> None:
    monkeypatch.setenv(setting, bad_value)

    with pytest.raises(SettingsError, match=setting):
        load_settings()


def test_breaker_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_BREAKER_FAILURES', '7')
    monkeypatch.setenv('NOTIFIER_BREAKER_SLOW_START_FRACTION', '0.25')

    settings = load_settings()

    assert (settings.breaker_failures, settings.breaker_slow_start_fraction) == (7, 0.25)
    assert (settings.breaker_probe_seconds, settings.breaker_slow_start_seconds) == (10.0, 5.0)
