"""The user directory's breaker against the reference user service: stop consuming, probe, slow start."""

import logging
import os

import pytest
from flask import Flask

from notifier.extensions import db
from notifier.pipeline import topology
from notifier.services.limits import set_limit
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.resilience.conftest import FlakyDirectory, FlakySmtp, breaker_phase, breaker_rows, queue_state
from tests.users.user_events import notify_user

BATCH = 'POST /api/v1/users/batch'
PROBE = 'GET /api/v1/users?segment=all&limit=1'
DIRECTORY = 'users.directory'
#: The directory's configured rate in the ramp test (requests a second).
FULL_RATE = 20.0


def _people(directory: FlakyDirectory, count: int) -> list[str]:
    user_ids = ['u{0:03d}'.format(number) for number in range(count)]
    for user_id in user_ids:
        directory.add(user_id, email='{0}@example.com'.format(user_id), name='User {0}'.format(user_id), locale='ru')
    return user_ids


def _all_sent(app: Flask, notification_ids: list[str]) -> bool:
    return all(queries.sent_delivery(app, notification_id) for notification_id in notification_ids)


def test_an_open_breaker_stops_the_generator_keeps_the_messages_and_after_recovery_each_user_gets_one_mail(
    failover_app: Flask, flaky_users: FlakyDirectory, flaky_smtp: FlakySmtp, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='notifier.resilience')
    user_ids = _people(flaky_users, 20)
    flaky_users.down = True
    try:
        with running_consumers(failover_app, ('router', 'worker', 'sender')), running_consumers(
            failover_app, ('generator',),
        ):
            notification_ids = [notify_user(failover_app, user_id) for user_id in user_ids[:10]]
            wait_for(lambda: breaker_phase(failover_app, DIRECTORY) == 'open', what='the directory breaker to open')
            wait_for(lambda: queue_state(failover_app, topology.GENERATOR)[1] == 0, what='the generator to cancel')
            notification_ids.extend(notify_user(failover_app, user_id) for user_id in user_ids[10:])
            wait_for(
                lambda: queue_state(failover_app, topology.GENERATOR) == (20, 0),
                what='every notification waiting in the generator queue',
            )
            batches_while_open = len(flaky_users.calls(BATCH))
            probes = len(flaky_users.calls(PROBE))
            wait_for(lambda: len(flaky_users.calls(PROBE)) >= probes + 2, what='two more probes that fail')

            assert queue_state(failover_app, topology.GENERATOR) == (20, 0)  # nothing consumed, nothing lost
            assert len(flaky_users.calls(BATCH)) == batches_while_open == 3  # only probes reach the service
            flaky_users.down = False
            wait_for(lambda: _all_sent(failover_app, notification_ids), timeout=60, what='every mail after recovery')
            wait_for(lambda: breaker_phase(failover_app, DIRECTORY) == 'closed', what='the slow start to finish')
    finally:
        flaky_users.down = False

    assert {user_id: len(flaky_smtp.to('{0}@example.com'.format(user_id))) for user_id in user_ids} == dict.fromkeys(
        user_ids, 1,
    )
    assert queries.parked_count(failover_app) == 0
    phases = [record.getMessage().split(' is ')[1].split(':')[0] for record in caplog.records
              if record.getMessage().startswith('circuit breaker users.directory is')]
    assert phases[:3] == ['open', 'probing', 'open']
    assert phases[-6:] == ['probing', 'recovering', 'recovering', 'recovering', 'recovering', 'closed']
    holders = {holder for name, holder, _ in breaker_rows(failover_app) if name == DIRECTORY}
    assert len(holders) == 1 and holders.pop().endswith(':{0}'.format(os.getpid()))


def _requests_per_interval(moments: list[float], start: float, seconds: float) -> list[int]:
    indexes = [int((moment - start) // seconds) for moment in moments]
    return [indexes.count(index) for index in range(max(indexes) + 1)]


def test_after_recovery_the_request_rate_starts_low_and_ramps_up(
    failover_app: Flask, flaky_users: FlakyDirectory, flaky_smtp: FlakySmtp, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='notifier.resilience')
    user_ids = _people(flaky_users, 80)
    with failover_app.app_context():
        set_limit(db.session(), DIRECTORY, FULL_RATE)
    flaky_users.down = True
    try:
        with running_consumers(failover_app, ('worker', 'sender')):
            with running_consumers(failover_app, ('router', 'generator')) as generator:
                notification_ids = [notify_user(failover_app, user_id) for user_id in user_ids]
                wait_for(lambda: breaker_phase(failover_app, DIRECTORY) == 'open', what='the breaker to open')
                wait_for(
                    lambda: queue_state(failover_app, topology.GENERATOR) == (80, 0),
                    what='the backlog in the generator queue',
                )
                flaky_users.down = False
                wait_for(lambda: _all_sent(failover_app, notification_ids), timeout=90, what='every mail')
                wait_for(lambda: breaker_phase(failover_app, DIRECTORY) == 'closed', what='the slow start to end')
                with failover_app.app_context():
                    limiter = generator.make_context(1, False).limiter
                    assert limiter is not None
                    rate_in_force = limiter.rate_of(DIRECTORY)
    finally:
        flaky_users.down = False

    recovered_at = flaky_users.calls(PROBE, status=200)[0]
    after = [moment for moment in flaky_users.calls(BATCH, status=200) if moment > recovered_at]
    per_second = _requests_per_interval(after, recovered_at, 1.0)
    # Every user is asked after the recovery; a batch of the generator asks for several users at once.
    assert 0 < len(after) <= 80
    # The first interval is well under the full rate (a slower machine only makes fewer requests).
    assert per_second[0] < FULL_RATE / 2, per_second
    # The rate ramps up: the breaker recorded each step of its slow start, then closed at the full rate
    # (read from the breaker and the limiter, not from how fast a busy machine happened to call).
    phases = [record.getMessage().split(' is ')[1].split(':')[0] for record in caplog.records
              if record.getMessage().startswith('circuit breaker users.directory is')]
    assert phases[-5:] == ['recovering', 'recovering', 'recovering', 'recovering', 'closed'], phases
    assert rate_in_force == FULL_RATE


def test_a_process_whose_every_queue_is_stopped_keeps_probing_and_stops_cleanly(
    failover_app: Flask, flaky_users: FlakyDirectory,
) -> None:
    user_ids = _people(flaky_users, 3)
    flaky_users.down = True
    try:
        with running_consumers(failover_app, ('router',)), running_consumers(failover_app, ('generator',)) as generator:
            for user_id in user_ids:
                notify_user(failover_app, user_id)
            wait_for(lambda: breaker_phase(failover_app, DIRECTORY) is not None, what='the breaker to open')
            wait_for(lambda: queue_state(failover_app, topology.GENERATOR) == (3, 0), what='every queue stopped')
            probes = len(flaky_users.calls(PROBE))
            wait_for(lambda: len(flaky_users.calls(PROBE)) >= probes + 2, what='probes while every queue is stopped')
            assert generator.sessions == 1  # still its first connection: paused, not reconnecting
    finally:
        flaky_users.down = False
