"""The brief's contracts as a client calls them: content_id, periodic events, a notification's final status."""

from typing import Any

from flask import Flask

from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

REFUSED = 'refused@example.com'
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
