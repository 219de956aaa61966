"""End to end through the real queues: API -> router -> generator -> worker -> sender -> SMTP."""

import logging
from typing import Any

import pytest
from flask import Flask

from notifier.constants import ATTEMPT_HEADER
from notifier.models.delivery import delivery_id_for
from notifier.pipeline import topology
from notifier.scheduler.loop import SchedulerLoop
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler


def _html(mail: Any) -> str:
    return str(mail.get_body(preferencelist=('html',)).get_content())


def test_welcome_event_sends_one_personal_mail(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    client = smtp_app.test_client()
    with running_consumers(smtp_app):
        accepted = queries.post_event(client, queries.WELCOME, key='reg-42').json
        delivery = wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the welcome mail')

    mails = smtp_server.to('vasya@example.com')
    assert len(mails) == 1
    assert 'Привет Вася!' in _html(mails[0])
    assert mails[0]['Subject'] == 'Добро пожаловать!'
    assert mails[0]['Message-ID'] == '<{0}@cinema.example>'.format(delivery.id)
    shown = client.get('/api/v1/notifications/{0}'.format(accepted['id']), headers=AUTH).json
    assert [(shown_delivery['channel'], shown_delivery['state']) for shown_delivery in shown['deliveries']] == [
        ('email', 'sent'),
    ]
    assert shown['deliveries'][0]['sent_at'] is not None


def test_info_event_renders_title_and_text(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    body = {
        'meta': {'urgency': 'immediate', 'email': 'petya@example.com'},
        'type': 'info',
        'fields': {'title': 'Новый фильм', 'text': 'Смотрите <сегодня>'},
    }
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), body).json
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the info mail')

    mails = smtp_server.to('petya@example.com')
    assert len(mails) == 1
    mail = mails[0]
    assert mail['Subject'] == 'Новый фильм'
    assert 'Смотрите &lt;сегодня&gt;' in _html(mail)


def test_replayed_post_sends_nothing_more(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    client = smtp_app.test_client()
    with running_consumers(smtp_app):
        first = queries.post_event(client, queries.WELCOME, key='reg-42').json
        wait_for(lambda: queries.sent_delivery(smtp_app, first['id']), what='the first mail')
        second = queries.post_event(client, queries.WELCOME, key='reg-42').json
        # a later notification proves the pipeline drained past any copy of the first
        later = queries.post_event(client, queries.welcome_to('later@example.com')).json
        wait_for(lambda: queries.sent_delivery(smtp_app, later['id']), what='the later mail')

    assert second['id'] == first['id']
    assert len(smtp_server.to('vasya@example.com')) == 1


def test_a_message_delivered_twice_to_the_sender_sends_one_mail(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    with running_consumers(smtp_app, stages=('router', 'generator', 'worker')):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        wait_for(lambda: queries.deliveries_of(smtp_app, accepted['id']), what='the delivery row')
    delivery_id = delivery_id_for(accepted['id'], 'vasya@example.com', 'email')
    duplicate = {
        'delivery_id': delivery_id,
        'notification_id': accepted['id'],
        'channel': 'email',
        'email': 'vasya@example.com',
        'content': {'subject': 'Добро пожаловать!', 'html': '<p>copy</p>', 'text': 'copy'},
    }
    queries.publish(smtp_app, topology.channel_route('email'), duplicate)
    queries.publish(smtp_app, topology.channel_route('email'), duplicate)

    with running_consumers(smtp_app, stages=('sender',)):
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the mail')
        marker = queries.post_event(smtp_app.test_client(), queries.welcome_to('m@example.com'))
    with running_consumers(smtp_app):
        wait_for(lambda: queries.sent_delivery(smtp_app, marker.json['id']), what='the marker mail')

    assert len(smtp_server.to('vasya@example.com')) == 1


def test_unknown_template_fails_the_delivery_with_the_reason_and_parks_it(app: Flask) -> None:
    body = {**queries.WELCOME, 'custom_template': 'no_such_template'}
    with running_consumers(app):
        accepted = queries.post_event(app.test_client(), body).json
        delivery = wait_for(lambda: queries.final_delivery(app, accepted['id']), what='the failed delivery')

    assert delivery.state == 'failed'
    assert "no template 'no_such_template'" in delivery.last_error
    parked = wait_for(lambda: queries.parked_messages(app), what='the parked message')
    headers, _ = parked[0]
    assert "no template 'no_such_template'" in headers['x-notifier-park-reason']
    assert headers['x-notifier-parked-by'] == 'worker'


def test_missing_field_fails_the_delivery_and_is_not_retried(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')
    body = {**queries.WELCOME, 'fields': {}}
    with running_consumers(app):
        accepted = queries.post_event(app.test_client(), body).json
        delivery = wait_for(lambda: queries.final_delivery(app, accepted['id']), what='the failed delivery')
        # The worker parks the message; a retried one would reach the parking lot only after the retry tiers,
        # with a later attempt in its header.
        parked = wait_for(lambda: queries.parked_messages(app), what='the parked message')

    assert delivery.state == 'failed'
    assert 'needs a field' in delivery.last_error
    assert delivery.attempts == 0  # no sender ever claimed it
    assert len(parked) == 1
    headers, _ = parked[0]
    assert headers['x-notifier-parked-by'] == 'worker'
    assert headers[ATTEMPT_HEADER] == 1  # parked on its first attempt: never retried
    assert 'needs a field' in headers['x-notifier-park-reason']
    retried = [record.getMessage() for record in caplog.records if 'retrying message' in record.getMessage()]
    assert not retried, retried


def test_poison_message_is_parked_and_the_queue_keeps_flowing(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    queries.publish(smtp_app, topology.NOTIFICATIONS, b'this is not json')
    queries.publish(smtp_app, topology.WORKER, {'wrong': 'shape'})
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the mail behind the poison')
        wait_for(lambda: queries.parked_count(smtp_app) >= 2, what='two parked messages')
    parked = queries.parked_messages(smtp_app)

    reasons = sorted(headers['x-notifier-park-reason'] for headers, _ in parked)
    assert reasons[0].startswith('message does not match WorkerMessageSchema')
    assert reasons[1].startswith('message is not JSON')
    assert len(smtp_server.to('vasya@example.com')) == 1


def test_usual_notification_waits_for_the_scheduler(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    body = {**queries.WELCOME, 'meta': {**queries.WELCOME['meta'], 'urgency': 'usual'}}
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), body).json
        wait_for(
            lambda: getattr(queries.notification(smtp_app, accepted['id']), 'status', None) == 'scheduled',
            what='the router to store it for the scheduler',
        )
        assert not smtp_server.to('vasya@example.com')
        wait_for(lambda: SchedulerLoop(smtp_app).tick() == 1, what='the next slot of usual notifications')
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the scheduled mail')

    assert len(smtp_server.to('vasya@example.com')) == 1
