"""Guards count the right failures; the switch cancels, probes and re-subscribes queues (fake broker)."""

from contextlib import nullcontext
from typing import Any, ClassVar

import pytest
from marshmallow import Schema

from notifier.channels.base import AddressKind, Channel, OutgoingMessage, SendResult
from notifier.models import BreakerPhase
from notifier.pipeline.dependencies import build_dependencies
from notifier.resilience import (
    BreakerPolicy,
    CircuitBreaker,
    DirectoryCircuitOpenError,
    GuardedDirectory,
    QueueSwitch,
    Route,
    guard_channel,
)
from notifier.settings import Settings
from notifier.users import DirectoryUnavailableError, UserProfile
from tests.resilience.fakes import FakeBroker, FakeClock, FakeDirectory

POLICY = BreakerPolicy(failures=3, probe_seconds=10, slow_start_fraction=0.25, slow_start_seconds=5)
PREFETCH = 16
GENERATOR = 'notifier.generator'
ROUTER = 'notifier.notifications'


class ScriptedChannel(Channel):
    """Answers the sends with the results it is given, in order."""

    name: ClassVar[str] = 'sms'
    settings_schema: ClassVar[type[Schema]] = Schema
    address_kind: ClassVar[str] = AddressKind.phone

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.answers: list[SendResult] = []
        self.sent: list[str] = []
        self.closed = False

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent.append(message.recipient)
        return self.answers.pop(0)

    def close(self) -> None:
        self.closed = True


def _message(recipient: str) -> OutgoingMessage:
    return OutgoingMessage('d-{0}'.format(recipient), 'n-1', recipient, 'subject', '<p>hi</p>', 'hi')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker('users.directory', POLICY, clock)


def test_the_guarded_channel_keeps_the_channel_s_class_data_and_closes_it(breaker: CircuitBreaker) -> None:
    channel = ScriptedChannel({'url': 'x'})
    guarded = guard_channel(channel, breaker)

    assert (type(guarded).name, type(guarded).address_kind, guarded.settings) == ('sms', 'phone', {'url': 'x'})
    assert guarded.breaker is breaker
    guarded.close()
    assert channel.closed


def test_permanent_failures_for_recipients_do_not_open_a_provider_breaker(breaker: CircuitBreaker) -> None:
    channel = ScriptedChannel({})
    channel.answers = [SendResult.permanent('SMTP 550 no such user') for _ in range(10)]
    guarded = guard_channel(channel, breaker)

    outcomes = [guarded.send(_message('bad{0}'.format(number))) for number in range(10)]

    assert {outcome.status for outcome in outcomes} == {'permanent_failure'}
    assert breaker.phase == BreakerPhase.closed


def test_temporary_failures_open_it_and_then_it_refuses_without_calling_the_provider(
    breaker: CircuitBreaker,
) -> None:
    channel = ScriptedChannel({})
    channel.answers = [SendResult.temporary('SMTP 451 try later') for _ in range(3)]
    guarded = guard_channel(channel, breaker)
    for number in range(3):
        guarded.send(_message('r{0}'.format(number)))

    refused = guarded.send(_message('r9'))

    assert breaker.phase == BreakerPhase.open
    assert refused.status == 'temporary_failure'
    assert 'circuit breaker is open' in refused.detail
    assert channel.sent == ['r0', 'r1', 'r2']


def test_a_provider_probe_lets_the_next_message_decide(breaker: CircuitBreaker) -> None:
    channel = ScriptedChannel({})
    channel.answers = [*(SendResult.temporary('SMTP 451') for _ in range(3)), SendResult.sent('id-1')]
    guarded = guard_channel(channel, breaker)
    for number in range(3):
        guarded.send(_message('r{0}'.format(number)))

    guarded.probe()
    assert breaker.phase == BreakerPhase.probing
    assert guarded.send(_message('r3')).status == 'sent'

    assert breaker.phase == BreakerPhase.recovering


def test_the_guarded_directory_counts_unavailability_refuses_when_open_and_pings_to_probe(
    breaker: CircuitBreaker,
) -> None:
    directory = FakeDirectory(users={'u1': UserProfile('u1', email='u1@example.com')}, down=True)
    guarded = GuardedDirectory(directory, breaker, None)
    for _ in range(3):
        with pytest.raises(DirectoryUnavailableError):
            guarded.get_many(['u1'])

    with pytest.raises(DirectoryCircuitOpenError):
        guarded.get('u1')
    assert directory.calls == 3  # the refused call never reached the directory

    guarded.probe()
    assert (breaker.phase, directory.pings) == (BreakerPhase.open, 1)
    directory.down = False
    guarded.probe()
    assert breaker.phase == BreakerPhase.recovering
    assert guarded.get_many(['u1', 'gone']) == {'u1': directory.users['u1']}
    assert [user.id for user in guarded.page('all', None, 10).users] == ['u1']


def _switch(broker: FakeBroker, guard: Any) -> tuple[QueueSwitch[str], list[str]]:
    handled: list[str] = []
    switch: QueueSwitch[str] = QueueSwitch(broker, PREFETCH, nullcontext)
    switch.connect([Route(ROUTER, handled.append), Route(GENERATOR, handled.append, guard)])
    return switch, handled


def test_the_switch_cancels_the_guarded_queue_after_the_message_that_opened_the_breaker(
    breaker: CircuitBreaker,
) -> None:
    directory = FakeDirectory(down=True)
    guarded = GuardedDirectory(directory, breaker, None)
    broker = FakeBroker()
    switch, _ = _switch(broker, guarded)
    assert broker.consumed() == {ROUTER: PREFETCH, GENERATOR: PREFETCH}

    for _ in range(3):
        breaker.failed('HTTP 503')  # as the stage's calls would
        broker.deliver(GENERATOR, 'a message')

    assert broker.consumed() == {ROUTER: PREFETCH}
    assert broker.log[-1] == 'cancel {0}'.format(GENERATOR)
    assert not switch.paused  # the router still reads its queue
    assert [delay for delay, _ in broker.timers] == [POLICY.probe_seconds]


def test_probes_until_the_dependency_answers_then_one_at_a_time_then_the_full_prefetch(
    breaker: CircuitBreaker, clock: FakeClock,
) -> None:
    directory = FakeDirectory(down=True)
    broker = FakeBroker()
    _switch(broker, GuardedDirectory(directory, breaker, None))
    for _ in range(3):
        breaker.failed('HTTP 503')
    broker.deliver(GENERATOR, 'the message in hand')

    assert broker.fire_timers() == [POLICY.probe_seconds]  # the probe fails: armed again
    assert (directory.pings, GENERATOR in broker.consumed()) == (1, False)
    directory.down = False
    assert broker.fire_timers() == [POLICY.probe_seconds]
    assert broker.consumed()[GENERATOR] == 1
    assert breaker.phase == BreakerPhase.recovering

    for _ in range(2):
        clock.advance(POLICY.slow_start_seconds)
        assert broker.fire_timers() == [POLICY.slow_start_seconds]

    assert breaker.phase == BreakerPhase.closed
    assert broker.consumed()[GENERATOR] == PREFETCH
    assert not broker.timers


def test_a_process_whose_every_queue_is_cancelled_is_paused(breaker: CircuitBreaker) -> None:
    broker = FakeBroker()
    switch: QueueSwitch[str] = QueueSwitch(broker, PREFETCH, nullcontext)
    switch.connect([Route(GENERATOR, lambda message: None, GuardedDirectory(FakeDirectory(), breaker, None))])
    assert not switch.paused

    for _ in range(3):
        breaker.failed('HTTP 503')
    switch.reconcile()

    assert switch.paused
    assert not broker.consumed()


def test_a_new_connection_keeps_an_open_breaker_s_queue_cancelled_and_ignores_old_timers(
    breaker: CircuitBreaker,
) -> None:
    directory = FakeDirectory(down=True)
    guard = GuardedDirectory(directory, breaker, None)
    broker = FakeBroker()
    switch, handled = _switch(broker, guard)
    for _ in range(3):
        breaker.failed('HTTP 503')
    switch.reconcile()
    stale_timers = list(broker.timers)
    broker.timers.clear()
    broker.consumers.clear()  # the connection broke: its consumers and timers are gone

    switch.connect([Route(ROUTER, handled.append), Route(GENERATOR, handled.append, guard)])
    for _, stale in stale_timers:
        stale()

    assert directory.pings == 0
    assert broker.consumed() == {ROUTER: PREFETCH}
    assert [delay for delay, _ in broker.timers] == [POLICY.probe_seconds]


def test_a_probe_that_raises_counts_as_failed_and_does_not_escape(breaker: CircuitBreaker) -> None:
    directory = FakeDirectory()
    directory.ping = None  # type: ignore[assignment,method-assign]  # calling it raises TypeError
    broker = FakeBroker()
    _switch(broker, GuardedDirectory(directory, breaker, None))
    for _ in range(3):
        breaker.failed('HTTP 503')
    broker.deliver(GENERATOR, 'message')

    broker.fire_timers()

    assert breaker.phase == BreakerPhase.open
    assert broker.timers  # armed again


def test_both_lanes_of_a_guarded_stage_share_its_breaker(tmp_path: Any) -> None:
    settings = Settings(
        instance_dir=tmp_path, users_url='http://127.0.0.1:9/api/v1/users', templates_dir=tmp_path,
    )
    dependencies = build_dependencies(settings, {'sms': ScriptedChannel({})})

    directory_guard = dependencies.guard_for('generator')
    sms_guard = dependencies.guard_for('channel.sms')
    assert directory_guard is not None and directory_guard.breaker.name == 'users.directory'
    assert sms_guard is not None and sms_guard.breaker.name == 'channel.sms'
    assert dependencies.guard_for('generator.bulk') is directory_guard
    assert dependencies.guard_for('channel.sms.bulk') is sms_guard
    assert dependencies.guard_for('worker') is None
    assert dependencies.guard_for('notifications') is None
    assert dependencies.channels['sms'] is sms_guard
    assert dependencies.users is directory_guard


def test_a_halted_switch_subscribes_nothing_again(breaker: CircuitBreaker) -> None:
    directory = FakeDirectory(down=True)
    broker = FakeBroker()
    switch, _ = _switch(broker, GuardedDirectory(directory, breaker, None))
    for _ in range(3):
        breaker.failed('HTTP 503')
    broker.deliver(GENERATOR, 'message')
    directory.down = False

    switch.halt()  # the process is stopping; a probe that succeeds now must not subscribe again
    broker.fire_timers()

    assert breaker.phase == BreakerPhase.recovering
    assert GENERATOR not in broker.consumed()
