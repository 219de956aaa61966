"""Stages over batches: each message of a batch has its own outcome, and a batch handled twice sends once."""

import logging
from typing import Any

import pytest
from flask import Flask

from notifier.pipeline import topology
from tests.integration import queries
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

BATCH = 6


def _notification(app: Flask) -> str:
    """A sent welcome notification whose worker messages the tests then publish for other addresses."""
    with running_consumers(app):
        accepted = queries.post_event(app.test_client(), queries.WELCOME).json
        wait_for(lambda: queries.sent_delivery(app, accepted['id']), what='the first mail')
    return str(accepted['id'])


def _worker_message(notification_id: str, email: str) -> dict[str, Any]:
    return {
        'notification_id': notification_id, 'channel': 'email', 'email': email,
        'template': 'welcome', 'locale': 'ru', 'fields': {'name': 'Зритель'}, 'user_id': None,
        'category': 'transactional',
    }


def _addresses(prefix: str) -> list[str]:
    return ['{0}{1}@example.com'.format(prefix, number) for number in range(BATCH)]


def _handled_together(caplog: pytest.LogCaptureFixture, stage: str, count: int) -> bool:
    wanted = '{0}: handled {1} message(s)'.format(stage, count)
    return any(record.getMessage().startswith(wanted) for record in caplog.records)


def test_a_poison_message_in_a_batch_is_parked_alone(
    smtp_app: Flask, smtp_server: RecordingHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    notification_id = _notification(smtp_app)
    for email in _addresses('batch'):
        queries.publish(smtp_app, topology.WORKER, _worker_message(notification_id, email))
    queries.publish(smtp_app, topology.WORKER, b'not json at all')
    queries.publish(smtp_app, topology.WORKER, {'notification_id': notification_id})  # no channel, no email
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')

    with running_consumers(smtp_app, stages=('worker', 'sender')):
        wait_for(lambda: len(smtp_server.messages) == 1 + BATCH, what='the batch mails')
        wait_for(lambda: queries.parked_count(smtp_app) == 2, what='the two poison messages parked')

    assert _handled_together(caplog, 'worker', BATCH + 2)  # they were one batch
    assert sorted(mail['To'] for mail in smtp_server.messages[1:]) == _addresses('batch')
    reasons = sorted(headers['x-notifier-park-reason'] for headers, _ in queries.parked_messages(smtp_app))
    assert reasons[0].startswith('message does not match WorkerMessageSchema')
    assert reasons[1].startswith('message is not JSON')


def test_a_failing_message_in_a_batch_is_retried_alone(
    smtp_app: Flask, smtp_server: RecordingHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    notification_id = _notification(smtp_app)
    addresses = _addresses('retry')
    smtp_server.rcpt_replies[addresses[2]] = '451 4.3.0 try again later'
    for email in addresses:
        queries.publish(smtp_app, topology.WORKER, _worker_message(notification_id, email))
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')

    with running_consumers(smtp_app, stages=('worker', 'sender')):
        wait_for(lambda: len(smtp_server.messages) == BATCH, what='every mail but the refused one')
        # The batch logs once its outcomes are committed, a moment after its last mail reached the server.
        wait_for(lambda: _handled_together(caplog, 'sender', BATCH), what='one sender batch, chained from the worker')
        refused = [row for row in queries.deliveries_of(smtp_app, notification_id) if row.recipient == addresses[2]]
        assert (refused[0].state, refused[0].last_error) == ('pending', 'SMTP 451 4.3.0 try again later')
        smtp_server.rcpt_replies.pop(addresses[2])
        wait_for(lambda: len(smtp_server.to(addresses[2])) == 1, timeout=30, what='the retried mail')

    assert sorted(mail['To'] for mail in smtp_server.messages[1:]) == addresses
    assert queries.parked_count(smtp_app) == 0


def test_a_batch_handled_twice_sends_each_mail_once(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    notification_id = _notification(smtp_app)
    addresses = _addresses('twice')
    for email in addresses:
        queries.publish(smtp_app, topology.WORKER, _worker_message(notification_id, email))
    with running_consumers(smtp_app, stages=('worker', 'sender')):
        wait_for(lambda: len(smtp_server.messages) == 1 + BATCH, what='the batch')
    # The same batch again, as RabbitMQ redelivers it when a consumer dies before its ack.
    for email in addresses:
        queries.publish(smtp_app, topology.WORKER, _worker_message(notification_id, email))
    with running_consumers(smtp_app):
        marker = queries.post_event(smtp_app.test_client(), queries.welcome_to('marker@example.com')).json
        wait_for(lambda: queries.sent_delivery(smtp_app, marker['id']), what='the marker behind the batch')

    assert sorted(mail['To'] for mail in smtp_server.messages[1:-1]) == addresses
    assert len(smtp_server.messages) == BATCH + 2
