"""A channel provider's breaker: an SMTP server refusing with 4xx, then recovering; bad addresses never trip it."""

import logging

import pytest
from flask import Flask

from notifier.pipeline import topology
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.resilience.conftest import FlakySmtp, breaker_phase, queue_state

EMAIL = 'channel.email'
TRY_LATER = '451 4.3.0 try again later'


def _post_welcomes(app: Flask, addresses: list[str]) -> list[str]:
    client = app.test_client()
    return [queries.post_event(client, queries.welcome_to(address)).json['id'] for address in addresses]


def _all_sent(app: Flask, notification_ids: list[str]) -> bool:
    return all(queries.sent_delivery(app, notification_id) for notification_id in notification_ids)


def _probes_failed(caplog: pytest.LogCaptureFixture) -> int:
    failed_probe = 'circuit breaker channel.email is open: probe failed'
    return sum(failed_probe in record.getMessage() for record in caplog.records)


def test_a_refusing_smtp_server_opens_the_breaker_the_queue_waits_and_after_recovery_each_mail_goes_once(
    failover_app: Flask, flaky_smtp: FlakySmtp, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='notifier.resilience')
    addresses = ['guest{0}@example.com'.format(number) for number in range(12)]
    flaky_smtp.refuse_all = TRY_LATER
    try:
        with running_consumers(failover_app):
            notification_ids = _post_welcomes(failover_app, addresses)
            wait_for(lambda: breaker_phase(failover_app, EMAIL) == 'open', what='the email breaker to open')
            wait_for(lambda: queue_state(failover_app, topology.channel_route('email'))[1] == 0, what='the cancel')
            wait_for(lambda: _probes_failed(caplog) >= 2, what='two probes (one message each) that are refused')

            assert not flaky_smtp.messages
            assert queries.parked_count(failover_app) == 0
            flaky_smtp.refuse_all = None
            wait_for(lambda: _all_sent(failover_app, notification_ids), timeout=60, what='every mail after recovery')
            wait_for(lambda: breaker_phase(failover_app, EMAIL) == 'closed', what='the slow start to finish')
            assert queue_state(failover_app, topology.channel_route('email')) == (0, 1)
    finally:
        flaky_smtp.refuse_all = None

    assert {address: len(flaky_smtp.to(address)) for address in addresses} == dict.fromkeys(addresses, 1)
    assert queries.parked_count(failover_app) == 0
    logged = [record.getMessage() for record in caplog.records]
    assert 'stopped consuming notifier.channel.email: its circuit breaker is open' in logged


def test_bad_addresses_are_parked_one_by_one_and_do_not_open_the_breaker(
    failover_app: Flask, flaky_smtp: FlakySmtp,
) -> None:
    bad = ['nobody{0}@example.com'.format(number) for number in range(6)]
    for address in bad:
        flaky_smtp.rcpt_replies[address] = '550 5.1.1 no such user'
    with running_consumers(failover_app):
        refused = _post_welcomes(failover_app, bad)
        wait_for(
            lambda: all(queries.final_delivery(failover_app, notification_id) for notification_id in refused),
            what='the refusals',
        )
        good = _post_welcomes(failover_app, ['vasya@example.com'])
        wait_for(lambda: _all_sent(failover_app, good), what='the next mail, sent at once')
        consumers = queue_state(failover_app, topology.channel_route('email'))[1]

    assert consumers == 1
    assert breaker_phase(failover_app, EMAIL) is None  # never changed, so never recorded
    assert {queries.final_delivery(failover_app, notification_id).state for notification_id in refused} == {'failed'}
    assert queries.parked_count(failover_app) == len(bad)
