"""Temporary failures retry through the delay queues; permanent ones park; operators replay."""

import subprocess
from urllib.parse import unquote, urlsplit

from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo

from notifier.app import create_app
from notifier.cli.main import cli
from notifier.settings import settings_of
from tests.integration import queries
from tests.plugins.app import make_settings, running_consumers, wait_for
from tests.plugins.services import RABBITMQCTL
from tests.plugins.smtp import RecordingHandler

VASYA = 'vasya@example.com'


def dlq(app: Flask, *arguments: str) -> str:
    invoked = CliRunner().invoke(cli, ['dlq', *arguments], obj=ScriptInfo(create_app=lambda: app))
    assert invoked.exit_code == 0, invoked.output
    return invoked.output


def test_a_temporary_smtp_error_is_retried_and_sent_once(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    smtp_server.rcpt_replies[VASYA] = '451 4.3.0 try again later'
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        first = wait_for(lambda: _attempted(smtp_app, accepted['id']), what='the first, refused attempt')
        assert first.state == 'pending'
        assert first.last_error == 'SMTP 451 4.3.0 try again later'
        smtp_server.rcpt_replies.pop(VASYA)
        delivery = wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the retried mail')

    assert delivery.attempts == 2
    assert len(smtp_server.to(VASYA)) == 1


def test_retries_give_up_after_the_last_tier_and_park(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    smtp_server.rcpt_replies[VASYA] = '451 4.3.0 try again later'
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        delivery = wait_for(lambda: queries.final_delivery(smtp_app, accepted['id']), what='the last attempt')

    assert delivery.state == 'failed'
    assert delivery.attempts == 3
    parked = wait_for(lambda: queries.parked_messages(smtp_app), what='the parked message')
    assert parked[0][0]['x-notifier-park-reason'] == 'gave up after 3 attempts: SMTP 451 4.3.0 try again later'
    assert not smtp_server.to(VASYA)


def test_a_permanent_error_parks_at_once_and_a_replay_after_the_fix_sends_once(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    smtp_server.rcpt_replies[VASYA] = '550 5.1.1 no such user'
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        failed = wait_for(lambda: queries.final_delivery(smtp_app, accepted['id']), what='the refused mail')
        assert (failed.state, failed.attempts, failed.last_error) == ('failed', 1, 'SMTP 550 5.1.1 no such user')
        wait_for(lambda: queries.parked_count(smtp_app) == 1, what='the parked message')

        listed = dlq(smtp_app, 'list')
        assert listed.splitlines()[0] == '1 message(s) in the parking lot'
        assert 'sender' in listed
        assert 'SMTP 550 5.1.1 no such user' in listed

        smtp_server.rcpt_replies.pop(VASYA)
        assert dlq(smtp_app, 'requeue', '--all') == 'requeued 1 message(s)\n'
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the replayed mail')
        assert dlq(smtp_app, 'requeue', '--all') == 'requeued 0 message(s)\n'

    assert len(smtp_server.to(VASYA)) == 1


def test_replaying_a_message_that_was_already_sent_sends_nothing(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        delivery = wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the mail')
    copy = {
        'delivery_id': delivery.id, 'notification_id': accepted['id'], 'channel': 'email', 'email': VASYA,
        'content': {'subject': 's', 'html': '<p>again</p>', 'text': 'again'},
    }
    queries.publish(smtp_app, 'parking-lot', copy, headers={'x-notifier-original-routing-key': 'channel.email'})

    assert dlq(smtp_app, 'requeue', '--all') == 'requeued 1 message(s)\n'
    with running_consumers(smtp_app):
        marker = queries.post_event(smtp_app.test_client(), queries.welcome_to('marker@example.com')).json
        wait_for(lambda: queries.sent_delivery(smtp_app, marker['id']), what='the marker mail')

    assert len(smtp_server.to(VASYA)) == 1


def test_consumers_reconnect_after_the_broker_drops_them(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    vhost = unquote(urlsplit(settings_of(smtp_app).broker_url).path.lstrip('/'))
    with running_consumers(smtp_app) as process:
        subprocess.run(
            [*RABBITMQCTL, 'close_all_connections', '-p', vhost, 'test: connections dropped'],
            check=True, capture_output=True, timeout=60,
        )
        wait_for(lambda: process.sessions >= 2, what='the consumer to reconnect')
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the mail after reconnecting')

    assert len(smtp_server.to(VASYA)) == 1


def test_events_accepted_while_the_broker_is_unreachable_go_out_through_the_relay(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    settings = settings_of(smtp_app)
    cut_off = make_settings(
        settings.resolved_database_url, 'amqp://guest:guest@127.0.0.1:1/%2F', settings.instance_dir,
    )
    api_without_broker = create_app(cut_off)  # a second API process, cut off from RabbitMQ
    accepted = queries.post_event(api_without_broker.test_client(), queries.WELCOME)
    assert accepted.status_code == 202

    with running_consumers(smtp_app):
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted.json['id']), what='the relayed mail')

    assert len(smtp_server.to(VASYA)) == 1


def _attempted(app: Flask, notification_id: str) -> object:
    rows = queries.deliveries_of(app, notification_id)
    return rows[0] if rows and rows[0].attempts >= 1 and rows[0].last_error else None
