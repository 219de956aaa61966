"""Bulk mailings: every recipient once, opt-outs skipped, resumable expansion, pause/resume/cancel."""

import os
import signal
import subprocess
import sys
from typing import Any

import pytest
from flask import Flask

from notifier.extensions import db
from notifier.models import User
from notifier.pipeline import topology
from notifier.pipeline.consumer import ConsumerProcess
from notifier.pipeline.generator import generate
from notifier.pipeline.outcomes import Done
from notifier.preferences.subjects import user_subject
from notifier.preferences.unsubscribe import unsubscribe
from notifier.services.templates import save_version
from notifier.settings import settings_of
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

AUDIENCE = 60
PAGE = 25


def _users(app: Flask, count: int) -> list[str]:
    with app.app_context():
        users = [
            User(id='u{0:04d}'.format(number), email='u{0:04d}@example.com'.format(number), name='Зритель')
            for number in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        return [user.id for user in users]


def _mailing(segment: str = 'all') -> dict[str, Any]:
    return {
        'meta': {'urgency': 'immediate', 'scale': 'bulk', 'audience': {'segment': segment}},
        'type': 'info',
        'fields': {'title': 'Премьера', 'text': 'Для вас, {{ name }}'},
    }


@pytest.fixture
def bulk_app(smtp_app: Flask) -> Flask:
    smtp_app.extensions['notifier.settings'] = smtp_app.extensions['notifier.settings'].model_copy(
        update={'expansion_page': PAGE},
    )
    return smtp_app


def _progress(app: Flask, notification_id: str) -> dict[str, Any]:
    return dict(app.test_client().get('/api/v1/mailings/{0}'.format(notification_id), headers=AUTH).json)


def test_every_user_gets_one_personal_mail_and_opt_outs_are_skipped(
    bulk_app: Flask, smtp_server: RecordingHandler,
) -> None:
    user_ids = _users(bulk_app, AUDIENCE)
    with bulk_app.app_context():
        unsubscribe(db.session(), user_subject(user_ids[7]), 'marketing')
    with running_consumers(bulk_app):
        accepted = queries.post_event(bulk_app.test_client(), _mailing()).json
        wait_for(lambda: _progress(bulk_app, accepted['id'])['sent'] == AUDIENCE - 1, timeout=60, what='every mail')

    report = _progress(bulk_app, accepted['id'])
    assert (report['total'], report['expanded'], report['state']) == (AUDIENCE, AUDIENCE, 'expanded')
    assert report['skipped'] == 1
    assert list(report['skipped_reasons'].values()) == [1]
    received = [mail['To'] for mail in smtp_server.messages]
    assert len(received) == len(set(received)) == AUDIENCE - 1
    assert 'u0007@example.com' not in received
    assert smtp_server.to('u0003@example.com')[0]['Subject'] == 'Премьера'


def _generate(app: Flask, notification_id: str) -> list[str]:
    """Run one generator message in this process, publishing what it forwards; the routing keys published."""
    process = ConsumerProcess(app, ('generator',))
    routes = []
    with app.app_context():
        outcome = generate({'notification_id': notification_id}, process.make_context(1, replayed=False))
        assert isinstance(outcome, Done)
        for published in outcome.forward:
            queries.publish(app, published.routing_key, dict(published.body))
            routes.append(published.routing_key)
        # As the runner does: once the page is published, the checkpoint and the mailing's next message.
        for published in outcome.then() if outcome.then else ():
            queries.publish(app, published.routing_key, dict(published.body))
            routes.append(published.routing_key)
    return routes


def _queued_mailing(app: Flask) -> str:
    _users(app, AUDIENCE)
    with running_consumers(app, stages=('router',)):
        accepted = queries.post_event(app.test_client(), _mailing()).json
        wait_for(lambda: getattr(queries.notification(app, accepted['id']), 'status', '') == 'queued')
    return str(accepted['id'])


def _generator_process(app: Flask, crash_points: str) -> subprocess.Popen[bytes]:
    """A real ``notifier run consume --only generator`` process on the app's database and vhost."""
    settings = settings_of(app)
    env = {
        **os.environ,
        'NOTIFIER_DATABASE_URL': settings.database_url,
        'NOTIFIER_BROKER_URL': settings.broker_url,
        'NOTIFIER_INSTANCE_DIR': str(settings.instance_dir),
        'NOTIFIER_EXPANSION_PAGE': str(PAGE),
        'NOTIFIER_RETRY_DELAYS': settings.retry_delays,
        'NOTIFIER_SENDING_LEASE': str(settings.sending_lease),
        'NOTIFIER_CRASH_POINTS': crash_points,
    }
    return subprocess.Popen(
        [sys.executable, '-m', 'notifier', 'run', 'consume', '--only', 'generator'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def test_an_expansion_killed_mid_way_resumes_from_its_checkpoint_without_duplicates(
    bulk_app: Flask, smtp_server: RecordingHandler,
) -> None:
    notification_id = _queued_mailing(bulk_app)
    # A generator process expands the first page (checkpoint), publishes the second page and is SIGKILLed
    # before that page's checkpoint moves: the crash point fires the second time a page is out.
    generator = _generator_process(bulk_app, 'generator.after_publish@2')
    try:
        returncode = generator.wait(timeout=120)
    finally:
        if generator.poll() is None:
            generator.kill()
            generator.wait()
    assert returncode == -signal.SIGKILL  # the crash point fired: the process died mid-expansion
    assert _progress(bulk_app, notification_id)['expanded'] == PAGE  # the first page's checkpoint only
    # The second page went out before the kill: the resumed expansion publishes it again (absorbed).
    assert queries.queue_depth(bulk_app, topology.lane_route(topology.WORKER, bulk=True)) == 2 * PAGE

    # RabbitMQ gives the unacked mailing message to the next generator; every stage runs now.
    with running_consumers(bulk_app):
        wait_for(lambda: _progress(bulk_app, notification_id)['sent'] == AUDIENCE, timeout=90, what='every mail')

    received = [mail['To'] for mail in smtp_server.messages]
    assert len(received) == len(set(received)) == AUDIENCE
    assert _progress(bulk_app, notification_id)['state'] == 'expanded'


def test_two_copies_of_a_mailing_message_do_not_start_two_expansions(
    bulk_app: Flask, smtp_server: RecordingHandler,
) -> None:
    notification_id = _queued_mailing(bulk_app)
    bulk_worker = topology.lane_route(topology.WORKER, bulk=True)
    # A crash before the ack left two copies of the mailing's message; two generators take them at once.
    process = ConsumerProcess(bulk_app, ('generator',))
    with bulk_app.app_context():
        outcome = generate({'notification_id': notification_id}, process.make_context(1, replayed=False))
        assert isinstance(outcome, Done)
        slower = iter(outcome.forward)
        assert next(slower).routing_key == bulk_worker  # it read the page at the first checkpoint
        # The other copy expands the same page, moves the checkpoint and hands the mailing on.
        assert _generate(bulk_app, notification_id)[-1] == topology.lane_route(topology.GENERATOR, bulk=True)
        rest = [published.routing_key for published in slower]
        assert outcome.then is not None
        rest.extend(published.routing_key for published in outcome.then())
    # The slower copy publishes its page (absorbed) but does not start a second chain.
    assert (len(rest), set(rest)) == (PAGE - 1, {bulk_worker})
    assert _progress(bulk_app, notification_id)['expanded'] == PAGE
    with running_consumers(bulk_app):
        wait_for(lambda: _progress(bulk_app, notification_id)['sent'] == AUDIENCE, timeout=60, what='every mail')

    received = [mail['To'] for mail in smtp_server.messages]
    assert len(received) == len(set(received)) == AUDIENCE
    assert _progress(bulk_app, notification_id)['expanded'] == AUDIENCE


def test_pause_stops_between_pages_and_resume_carries_on(bulk_app: Flask, smtp_server: RecordingHandler) -> None:
    _users(bulk_app, AUDIENCE)
    client = bulk_app.test_client()
    with running_consumers(bulk_app, stages=('router',)):
        accepted = queries.post_event(client, _mailing()).json
        wait_for(lambda: getattr(queries.notification(bulk_app, accepted['id']), 'status', '') == 'queued')
    paused = client.post('/api/v1/mailings/{0}/pause'.format(accepted['id']), headers=AUTH)
    assert paused.json['state'] == 'paused'
    assert client.post('/api/v1/mailings/{0}/pause'.format(accepted['id']), headers=AUTH).status_code == 409

    with running_consumers(bulk_app):
        resumed = client.post('/api/v1/mailings/{0}/resume'.format(accepted['id']), headers=AUTH)
        assert resumed.json['state'] == 'expanding'
        wait_for(lambda: _progress(bulk_app, accepted['id'])['sent'] == AUDIENCE, timeout=60, what='every mail')

    assert len(smtp_server.messages) == AUDIENCE


def test_cancel_stops_the_mailing_and_skips_what_is_not_sent(bulk_app: Flask, smtp_server: RecordingHandler) -> None:
    _users(bulk_app, AUDIENCE)
    client = bulk_app.test_client()
    with running_consumers(bulk_app, stages=('router',)):
        accepted = queries.post_event(client, _mailing()).json
        wait_for(lambda: getattr(queries.notification(bulk_app, accepted['id']), 'status', '') == 'queued')
    cancelled = client.post('/api/v1/mailings/{0}/cancel'.format(accepted['id']), headers=AUTH)
    assert cancelled.json['state'] == 'cancelled'

    with running_consumers(bulk_app):
        marker = queries.post_event(client, queries.welcome_to('marker@example.com')).json
        wait_for(lambda: queries.sent_delivery(bulk_app, marker['id']), what='a mail behind the cancelled mailing')

    assert smtp_server.to('marker@example.com')
    assert len(smtp_server.messages) == 1


def test_a_bulk_event_whose_type_implies_no_audience_needs_one(app: Flask) -> None:
    response = queries.post_event(app.test_client(), {'meta': {'scale': 'bulk'}, 'type': 'welcome'})

    assert response.status_code == 422
    assert 'meta.audience' in response.json['error']['fields']


def test_an_instant_notification_overtakes_a_mailing_backlog(bulk_app: Flask, smtp_server: RecordingHandler) -> None:
    backlog = 200
    # Bulk lanes read 5 at a time (a batch is half the prefetch): what an instant mail may wait behind.
    bulk_app.extensions['notifier.settings'] = bulk_app.extensions['notifier.settings'].model_copy(
        update={'bulk_prefetch': 10},
    )
    _users(bulk_app, backlog)
    client = bulk_app.test_client()
    with running_consumers(bulk_app, stages=('router', 'generator')):
        mailing = queries.post_event(client, _mailing()).json
        wait_for(lambda: _progress(bulk_app, mailing['id'])['expanded'] == backlog, timeout=60, what='expansion')
    # Every recipient of the mailing waits in the worker's bulk lane; then an instant mail arrives.
    with running_consumers(bulk_app):
        instant = queries.post_event(client, queries.welcome_to('instant@example.com')).json
        wait_for(lambda: queries.sent_delivery(bulk_app, instant['id']), timeout=60, what='the instant mail')
        sent_before_it = _progress(bulk_app, mailing['id'])['sent']
        wait_for(lambda: _progress(bulk_app, mailing['id'])['sent'] == backlog, timeout=120, what='the mailing')

    # It waited behind at most the few bulk batches each stage had in hand, not the backlog.
    assert sent_before_it < backlog // 2
    assert len(smtp_server.messages) == backlog + 1


def _save_info_template(app: Flask, subject: str, base_version: int) -> None:
    source = '{% block subject %}SUBJECT{% endblock %}{% block html %}<p>{{ text }}</p>{% endblock %}'.replace(
        'SUBJECT', subject,
    )
    with app.app_context():
        save_version(db.session(), ('email', 'info', 'ru'), source, base_version)
        db.session.commit()


def test_a_running_mailing_keeps_the_template_version_it_started_with(
    bulk_app: Flask, smtp_server: RecordingHandler,
) -> None:
    _users(bulk_app, 3)
    _save_info_template(bulk_app, 'Версия 1', base_version=0)
    client = bulk_app.test_client()
    with running_consumers(bulk_app, stages=('router', 'generator')):
        mailing = queries.post_event(client, _mailing()).json
        wait_for(lambda: _progress(bulk_app, mailing['id'])['expanded'] == 3, what='expansion')
    # A manager saves a new version while the mailing's messages wait to be rendered.
    _save_info_template(bulk_app, 'Версия 2', base_version=1)
    with running_consumers(bulk_app):
        wait_for(lambda: _progress(bulk_app, mailing['id'])['sent'] == 3, what='the mailing')
        instant = queries.post_event(client, {
            'meta': {'urgency': 'immediate', 'email': 'later@example.com'},
            'type': 'info', 'fields': {'title': 'Потом', 'text': 'Новое'},
        }).json
        wait_for(lambda: queries.sent_delivery(bulk_app, instant['id']), what='a later notification')

    subjects = {mail['To']: mail['Subject'] for mail in smtp_server.messages}
    assert subjects.pop('later@example.com') == 'Версия 2'
    assert set(subjects.values()) == {'Версия 1'}
    assert len(subjects) == 3
