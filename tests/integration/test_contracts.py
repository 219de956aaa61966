"""The brief's contracts as a client calls them: content_id, periodic events, a notification's final status."""

from flask import Flask

from tests.integration.queries import WELCOME, post_event, welcome_to
from tests.plugins.app import AUTH


def test_content_id_is_stored_returned_and_filters_the_list(app: Flask) -> None:
    client = app.test_client()
    about_dark = post_event(client, {**WELCOME, 'content_id': 'series-dark'})
    post_event(client, {**welcome_to('petya@example.com'), 'content_id': 'film-solaris'})
    post_event(client, welcome_to('olya@example.com'))

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
    post_event(app.test_client(), {**WELCOME, 'content_id': 'series-dark'})

    listed = app.test_client().get('/api/v1/notifications?content_id=series-other', headers=AUTH)

    assert listed.status_code == 200
    assert listed.json['items'] == []
