"""``GET /api/v1/notifications``: newest first, a page at a time, each notification once."""

import base64

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.queries import post_event, welcome_to
from tests.plugins.app import AUTH


def _accept(client: FlaskClient, count: int) -> list[str]:
    return [
        post_event(client, welcome_to('user{0}@example.com'.format(number))).json['id']
        for number in range(count)
    ]


def _all_pages(client: FlaskClient, limit: int) -> list[list[str]]:
    pages = []
    url = '/api/v1/notifications?limit={0}'.format(limit)
    while url:
        answer = client.get(url, headers=AUTH).json
        pages.append([notification['id'] for notification in answer['items']])
        url = answer['next'] and '/api/v1/notifications?limit={0}&before={1}'.format(limit, answer['next'])
    return pages


def test_pages_walk_every_notification_once_newest_first(app: Flask) -> None:
    client = app.test_client()
    accepted = _accept(client, 5)

    pages = _all_pages(client, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [notification_id for page in pages for notification_id in page] == list(reversed(accepted))


def test_the_last_full_page_has_no_next(app: Flask) -> None:
    client = app.test_client()
    _accept(client, 2)

    answer = client.get('/api/v1/notifications?limit=2', headers=AUTH).json

    assert len(answer['items']) == 2
    assert answer['next'] is None


def test_a_page_is_not_shifted_by_newer_notifications(app: Flask) -> None:
    client = app.test_client()
    older = _accept(client, 3)
    first = client.get('/api/v1/notifications?limit=1', headers=AUTH).json

    _accept(client, 2)
    second = client.get('/api/v1/notifications?limit=5&before={0}'.format(first['next']), headers=AUTH).json

    assert [notification['id'] for notification in second['items']] == list(reversed(older[:2]))


def test_the_status_filter_keeps_the_cursor(app: Flask) -> None:
    client = app.test_client()
    _accept(client, 3)

    accepted = client.get('/api/v1/notifications?limit=2&status=accepted', headers=AUTH).json
    scheduled = client.get('/api/v1/notifications?status=scheduled', headers=AUTH).json

    assert len(accepted['items']) == 2
    assert accepted['next'] is not None
    assert scheduled == {'items': [], 'next': None}


def test_a_cursor_the_api_did_not_make_is_a_400(app: Flask) -> None:
    client = app.test_client()
    forged = base64.urlsafe_b64encode(b'not a date|x').decode()

    for cursor in ('!!!', forged, 'x' * 201):
        response = client.get('/api/v1/notifications?before={0}'.format(cursor), headers=AUTH)
        assert response.status_code == 400, cursor
        assert response.json['error']['code'] in {'bad_cursor', 'bad_query'}
