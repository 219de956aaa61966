"""The brief's contracts as a client calls them: content_id, periodic events, a notification's final status."""

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from notifier.scheduler.loop import SchedulerLoop
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

REFUSED = 'refused@example.com'
PETYA = 'petya@example.com'
#: The brief's event with a schedule: every morning at nine, Moscow time.
DAILY_DIGEST = {
    'meta': {'urgency': 'usual', 'scale': 'individual', 'email': PETYA, 'periodic': True,
             'cron': '0 9 * * *', 'timezone': 'Europe/Moscow'},
    'type': 'info',
    'fields': {'title': 'Дайджест', 'text': 'Новинки дня'},
}
FINAL = frozenset(('sent', 'failed', 'skipped'))


def _shown(flask_app: Flask, notification_id: str) -> Any:
    return flask_app.test_client().get('/api/v1/notifications/{0}'.format(notification_id), headers=AUTH).json


def _all_final(flask_app: Flask, notification_id: str, expected: int) -> bool:
    states = [row.state for row in queries.deliveries_of(flask_app, notification_id)]
    return len(states) == expected and FINAL.issuperset(states)


def test_content_id_is_stored_returned_and_filters_the_list(app: Flask) -> None:
    client = app.test_client()
    about_dark = queries.post_event(client, {**queries.WELCOME, 'content_id': 'series-dark'})
    queries.post_event(client, {**queries.welcome_to('petya@example.com'), 'content_id': 'film-solaris'})
    queries.post_event(client, queries.welcome_to('olya@example.com'))

    shown = client.get('/api/v1/notifications/{0}'.format(about_dark.json['id']), headers=AUTH)
    filtered = client.get('/api/v1/notifications?content_id=series-dark', headers=AUTH)
    unfiltered = client.get('/api/v1/notifications', headers=AUTH)

    assert about_dark.status_code == 202
    assert shown.json['content_id'] == 'series-dark'
    assert [listed['id'] for listed in filtered.json['items']] == [about_dark.json['id']]
    assert sorted(str(listed['content_id']) for listed in unfiltered.json['items']) == [
        'None', 'film-solaris', 'series-dark',
    ]


def test_a_content_id_that_no_notification_has_lists_nothing(app: Flask) -> None:
    queries.post_event(app.test_client(), {**queries.WELCOME, 'content_id': 'series-dark'})

    listed = app.test_client().get('/api/v1/notifications?content_id=series-other', headers=AUTH)

    assert listed.status_code == 200
    assert not listed.json['items']


def test_an_individual_notification_says_sent_once_its_delivery_is_sent(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), queries.WELCOME).json
        wait_for(lambda: queries.sent_delivery(smtp_app, accepted['id']), what='the welcome mail')

    shown = _shown(smtp_app, accepted['id'])
    listed = smtp_app.test_client().get('/api/v1/notifications?status=sent', headers=AUTH).json

    assert shown['status'] == 'sent'
    assert [item_shown['id'] for item_shown in listed['items']] == [accepted['id']]


def test_an_individual_notification_whose_delivery_failed_says_failed(app: Flask) -> None:
    with running_consumers(app):
        body = {**queries.WELCOME, 'custom_template': 'no_such_template'}
        accepted = queries.post_event(app.test_client(), body).json
        wait_for(lambda: queries.final_delivery(app, accepted['id']), what='the failed delivery')

    assert _shown(app, accepted['id'])['status'] == 'failed'


def test_a_mailing_with_one_refused_address_says_partially_sent(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    smtp_server.rcpt_replies[REFUSED] = '550 5.1.1 no such user'
    emails = ['anna@example.com', REFUSED, 'boris@example.com', 'anna@example.com']
    body = {'meta': {'scale': 'bulk', 'audience': {'emails': emails}}, 'type': 'info',
            'fields': {'title': 'Премьера', 'text': 'Новый сезон'}}
    with running_consumers(smtp_app):
        accepted = queries.post_event(smtp_app.test_client(), body).json
        wait_for(lambda: _all_final(smtp_app, accepted['id'], 3), what='three final deliveries')

    shown = _shown(smtp_app, accepted['id'])

    assert shown['status'] == 'partially_sent'
    assert sorted(delivery['state'] for delivery in shown['deliveries']) == ['failed', 'sent', 'sent']


def test_a_mailing_still_being_expanded_or_sent_says_processing(app: Flask) -> None:
    body = {'meta': {'scale': 'bulk', 'audience': {'emails': ['anna@example.com']}}, 'type': 'info',
            'fields': {'title': 'Премьера', 'text': 'Новый сезон'}}
    with running_consumers(app, stages=('router', 'generator')):
        accepted = queries.post_event(app.test_client(), body).json
        wait_for(lambda: _shown(app, accepted['id'])['status'] == 'processing', what='the expansion')

    assert not queries.deliveries_of(app, accepted['id'])
    assert _shown(app, accepted['id'])['status'] == 'processing'


def test_a_periodic_event_becomes_its_schedule(app: Flask) -> None:
    client = app.test_client()

    created = queries.post_event(client, DAILY_DIGEST, key='digest-petya')
    shown = client.get(created.headers['Location'], headers=AUTH)

    assert created.status_code == 201
    schedule = created.json
    assert (schedule['cron'], schedule['timezone'], schedule['type']) == ('0 9 * * *', 'Europe/Moscow', 'info')
    assert (schedule['audience']['kind'], schedule['audience']['email']) == ('user', PETYA)
    assert schedule['fields'] == {'title': 'Дайджест', 'text': 'Новинки дня'}
    next_fire = dt.datetime.fromisoformat(schedule['next_fire_at']).astimezone(dt.timezone.utc)
    assert (next_fire.hour, next_fire.minute) == (6, 0)  # 09:00 in Moscow (UTC+3)
    assert (shown.status_code, shown.json['id']) == (200, schedule['id'])
    assert queries.notification_count(app) == 0  # nothing is sent before its first fire


def test_a_retried_periodic_event_answers_the_same_schedule_and_another_body_conflicts(app: Flask) -> None:
    client = app.test_client()
    first = queries.post_event(client, DAILY_DIGEST, key='digest-petya')

    again = queries.post_event(client, DAILY_DIGEST, key='digest-petya')
    other = queries.post_event(client, {**DAILY_DIGEST, 'fields': {'title': 'x', 'text': 'y'}}, key='digest-petya')
    listed = client.get('/api/v1/schedules', headers=AUTH).json

    assert (again.status_code, again.json['id']) == (200, first.json['id'])
    assert other.status_code == 409
    assert [schedule['id'] for schedule in listed['items']] == [first.json['id']]


def test_each_fire_of_a_periodic_event_mails_through_the_pipeline(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    every_second = {**DAILY_DIGEST, 'meta': {
        'scale': 'individual', 'email': PETYA, 'periodic': True, 'interval_seconds': 1,
    }}
    scheduler = SchedulerLoop(smtp_app)
    with running_consumers(smtp_app):
        assert queries.post_event(smtp_app.test_client(), every_second).status_code == 201
        wait_for(lambda: scheduler.tick() and smtp_server.to(PETYA), what='the first fire to be mailed')

    mail = smtp_server.to(PETYA)[0]
    assert mail['Subject'] == 'Дайджест'


def test_a_brief_shaped_periodic_bulk_event_schedules_a_mailing_to_everyone(app: Flask) -> None:
    weekly = {'meta': {'urgency': 'immidiate', 'scale': 'bulk', 'periodic': True, 'cron': '0 10 * * 1'},
              'type': 'info', 'fields': {'title': 'Неделя', 'text': 'Что посмотреть'}}

    created = queries.post_event(app.test_client(), weekly)

    assert created.status_code == 201
    assert (created.json['audience']['kind'], created.json['audience']['segment']) == ('segment', 'all')
    assert created.json['timezone'] == 'UTC'


@pytest.mark.parametrize(('meta', 'field', 'message'), [
    ({'periodic': True}, 'meta.cron', 'a periodic notification needs its schedule'),
    ({'periodic': True, 'timezone': 'Europe/Moscow'}, 'meta.cron', 'a periodic notification needs its schedule'),
    ({'periodic': True, 'cron': '0 9 * * *', 'interval_seconds': 60}, 'meta.cron', 'not both'),
    ({'periodic': False, 'cron': '0 9 * * *'}, 'meta.cron', 'only periodic notifications'),
])
def test_a_periodic_event_without_one_schedule_is_a_422_saying_what_is_missing(
    app: Flask, meta: dict[str, Any], field: str, message: str,
) -> None:
    body = {**queries.WELCOME, 'meta': {'email': PETYA, **meta}}

    answer = queries.post_event(app.test_client(), body)

    field_errors = answer.json['error']['fields']
    assert answer.status_code == 422
    assert message in field_errors[field][0]
