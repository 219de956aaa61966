"""Recipients named by user id: enrichment over real HTTP, deleted users, opt-outs honoured twice."""

import logging

import pytest
from flask import Flask

from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler
from tests.users.user_events import notify_user
from tests.users.reference_server import ReferenceDirectory

OLYA = 'olya@example.com'
SERVICE_OFF = {'categories': {'service': {'enabled': False}}}


def _html(mail: object) -> str:
    return str(mail.get_body(preferencelist=('html',)).get_content())  # type: ignore[attr-defined]


def test_the_worker_gets_the_user_from_the_http_directory_in_one_call(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    reference_users.add('u-olya', email=OLYA, name='Оля', locale='ru', time_zone='Europe/Moscow')
    with running_consumers(http_users_app):
        notification_id = notify_user(http_users_app, 'u-olya', show='Тьма', episode='S01E02')
        wait_for(lambda: queries.sent_delivery(http_users_app, notification_id), what='the enriched mail')

    mails = smtp_server.to(OLYA)
    assert len(mails) == 1
    assert 'Привет Оля!' in _html(mails[0])
    assert 'Тьма' in _html(mails[0])
    assert mails[0]['List-Unsubscribe'].startswith('<http')
    assert reference_users.requests == ['POST /api/v1/users/batch']


def test_a_deleted_user_is_skipped_with_the_reason_and_not_retried(
    http_users_app: Flask, reference_users: ReferenceDirectory, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')
    with running_consumers(http_users_app):
        notification_id = notify_user(http_users_app, 'u-gone')
        delivery = wait_for(lambda: queries.final_delivery(http_users_app, notification_id), what='the skip')
    # Stopping waits for the batch in hand: a retry of the skipped message would have been decided (and
    # logged) before its batch ended.
    retried = [record.getMessage() for record in caplog.records if 'retrying message' in record.getMessage()]

    assert not retried, retried
    assert (delivery.state, delivery.recipient) == ('skipped', 'user:u-gone')
    assert delivery.last_error == 'user u-gone does not exist (any more)'
    assert reference_users.requests == ['POST /api/v1/users/batch']
    assert queries.parked_count(http_users_app) == 0


def test_a_directory_that_is_down_is_retried_later_then_the_mail_goes(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    reference_users.add('u-olya', email=OLYA, name='Оля')
    reference_users.failures.append(503)
    with running_consumers(http_users_app):
        notification_id = notify_user(http_users_app, 'u-olya')
        wait_for(lambda: queries.sent_delivery(http_users_app, notification_id), what='the mail after a retry')

    assert reference_users.requests == ['POST /api/v1/users/batch', 'POST /api/v1/users/batch']
    assert len(smtp_server.to(OLYA)) == 1


def test_an_opt_out_is_honoured_at_expansion(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    reference_users.add('u-olya', email=OLYA, name='Оля')
    client = http_users_app.test_client()
    assert client.put('/api/v1/users/u-olya/preferences', json=SERVICE_OFF, headers=AUTH).status_code == 200
    with running_consumers(http_users_app):
        notification_id = notify_user(http_users_app, 'u-olya')
        delivery = wait_for(lambda: queries.final_delivery(http_users_app, notification_id), what='the skip')
        welcome_id = notify_user(http_users_app, 'u-olya', 'welcome', name='Оля')
        wait_for(lambda: queries.sent_delivery(http_users_app, welcome_id), what='the transactional mail')

    assert (delivery.state, delivery.last_error, delivery.recipient) == ('skipped', 'opted out', OLYA)
    assert [mail['Subject'] for mail in smtp_server.to(OLYA)] == ['Добро пожаловать!']


def test_an_opt_out_that_arrives_while_the_mail_is_queued_is_honoured_before_sending(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    reference_users.add('u-olya', email=OLYA, name='Оля')
    with running_consumers(http_users_app, stages=('router', 'generator', 'worker')):
        notification_id = notify_user(http_users_app, 'u-olya')
        pending = wait_for(lambda: queries.deliveries_of(http_users_app, notification_id), what='the delivery row')
    assert pending[0].state == 'pending'

    client = http_users_app.test_client()
    assert client.put('/api/v1/users/u-olya/preferences', json=SERVICE_OFF, headers=AUTH).status_code == 200
    with running_consumers(http_users_app, stages=('sender',)):
        delivery = wait_for(lambda: queries.final_delivery(http_users_app, notification_id), what='the skip')

    assert (delivery.state, delivery.last_error) == ('skipped', 'opted out')
    assert smtp_server.to(OLYA) == []
