"""Bulk mailings: every recipient once, opt-outs skipped, resumable expansion, pause/resume/cancel."""

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


def test_an_expansion_killed_mid_way_resumes_from_its_checkpoint_without_duplicates(
    bulk_app: Flask, smtp_server: RecordingHandler,
) -> None:
    _users(bulk_app, AUDIENCE)
    with running_consumers(bulk_app, stages=('router',)):
        accepted = queries.post_event(bulk_app.test_client(), _mailing()).json
        wait_for(lambda: getattr(queries.notification(bulk_app, accepted['id']), 'status', '') == 'queued')
    # The generator takes the message and dies in the middle of its second page.
    process = ConsumerProcess(bulk_app, ('generator',))
    with bulk_app.app_context():
        outcome = generate({'notification_id': accepted['id']}, process.make_context(1, replayed=False))
        assert isinstance(outcome, Done)
        forwarded = iter(outcome.forward)
        for _ in range(PAGE + PAGE // 2):
            published = next(forwarded)
            queries.publish(bulk_app, published.routing_key, dict(published.body))
    assert _progress(bulk_app, accepted['id'])['expanded'] == PAGE  # the first page's checkpoint
    # RabbitMQ redelivers the generator's message to a new generator process.
    queries.publish(bulk_app, topology.GENERATOR, {'notification_id': accepted['id']})
    with running_consumers(bulk_app):
        wait_for(lambda: _progress(bulk_app, accepted['id'])['sent'] == AUDIENCE, timeout=60, what='every mail')

    received = [mail['To'] for mail in smtp_server.messages]
    assert len(received) == len(set(received)) == AUDIENCE


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


def test_a_bulk_event_needs_an_audience(app: Flask) -> None:
    response = queries.post_event(app.test_client(), {'meta': {'scale': 'bulk'}, 'type': 'info'})

    assert response.status_code == 422
    assert 'meta.audience' in response.json['error']['fields']
