"""The inbox API: pages with the unread count, marking read, and hostile input answered with 4xx."""

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.integration.queries import post_event
from tests.plugins.app import AUTH, running_consumers, wait_for

INBOX = '/api/v1/users/anna/inbox'


def _inbox(client: FlaskClient, query: str = '') -> Any:
    answer = client.get('{0}{1}'.format(INBOX, query), headers=AUTH)
    assert answer.status_code == 200, answer.json
    return answer.json


def _three_notifications(inbox_app: Flask) -> FlaskClient:
    client = inbox_app.test_client()
    with running_consumers(inbox_app):
        for title in ('Первое', 'Второе', 'Третье'):
            post_event(client, {
                'meta': {'user_id': 'anna'},
                'type': 'info',
                'channels': ['websocket'],
                'fields': {'title': title, 'text': title},
            })
        wait_for(lambda: _inbox(client)['unread'] == 3, what='three inbox items')
    return client


def test_pages_newest_first_with_the_unread_count(inbox_app: Flask) -> None:
    client = _three_notifications(inbox_app)

    first_page = _inbox(client, '?limit=2')
    last_page = _inbox(client, '?limit=2&before={0}'.format(first_page['next']))

    assert [entry['title'] for entry in first_page['items']] == ['Третье', 'Второе']
    assert [entry['title'] for entry in last_page['items']] == ['Первое']
    assert last_page['next'] is None
    assert first_page['unread'] == last_page['unread'] == 3
    assert first_page['items'][0]['data'] == {'html': '<p>Третье</p>'}
    assert client.get('/api/v1/users/boris/inbox', headers=AUTH).json == {'items': [], 'next': None, 'unread': 0}


def test_marking_read_once_or_twice_and_all(inbox_app: Flask) -> None:
    client = _three_notifications(inbox_app)
    oldest = _inbox(client)['items'][-1]
    read_path = '{0}/{1}/read'.format(INBOX, oldest['id'])

    first_read = client.post(read_path, headers=AUTH)
    second_read = client.post(read_path, headers=AUTH)
    unread_only = _inbox(client, '?unread=true')
    all_read = client.post('{0}/read-all'.format(INBOX), headers=AUTH)

    assert first_read.status_code == second_read.status_code == 200
    assert first_read.json['read_at'] is not None
    assert second_read.json['read_at'] == first_read.json['read_at']  # the first reading time stays
    assert unread_only['unread'] == 2
    assert [entry['title'] for entry in unread_only['items']] == ['Третье', 'Второе']
    assert all_read.json == {'marked': 2, 'unread': 0}
    assert _inbox(client)['unread'] == 0


def test_another_users_item_is_not_found(inbox_app: Flask) -> None:
    client = _three_notifications(inbox_app)
    annas_item = _inbox(client)['items'][0]

    answer = client.post('/api/v1/users/boris/inbox/{0}/read'.format(annas_item['id']), headers=AUTH)

    assert answer.status_code == 404
    assert answer.json['error']['code'] == 'not_found'
    assert _inbox(client)['unread'] == 3


def test_hostile_input_is_a_client_error(inbox_app: Flask) -> None:
    client = inbox_app.test_client()
    huge = 'x' * 100000

    answers = {
        'no token': client.get(INBOX),
        'NUL in user id': client.get('/api/v1/users/an%00na/inbox', headers=AUTH),
        'huge user id': client.get('/api/v1/users/{0}/inbox'.format(huge), headers=AUTH),
        'limit not a number': client.get('{0}?limit=many'.format(INBOX), headers=AUTH),
        'limit too large': client.get('{0}?limit=100000'.format(INBOX), headers=AUTH),
        'forged cursor': client.get('{0}?before=bm90IGEgY3Vyc29y'.format(INBOX), headers=AUTH),
        'NUL in cursor': client.get('{0}?before=%00'.format(INBOX), headers=AUTH),
        'unread not a boolean': client.get('{0}?unread=perhaps'.format(INBOX), headers=AUTH),
        'huge item id': client.post('{0}/{1}/read'.format(INBOX, huge), headers=AUTH),
        'NUL in item id': client.post('{0}/a%00b/read'.format(INBOX), headers=AUTH),
        'NUL user on read-all': client.post('/api/v1/users/%00/inbox/read-all', headers=AUTH),
        'GET on read-all': client.get('{0}/read-all'.format(INBOX), headers=AUTH),
    }

    statuses = {case: answer.status_code for case, answer in answers.items()}
    assert statuses == {
        'no token': 401,
        'NUL in user id': 422,
        'huge user id': 422,
        'limit not a number': 400,
        'limit too large': 400,
        'forged cursor': 400,
        'NUL in cursor': 400,
        'unread not a boolean': 400,
        'huge item id': 404,
        'NUL in item id': 404,
        'NUL user on read-all': 422,
        'GET on read-all': 405,
    }
    assert all(answer.json['error']['code'] for answer in answers.values())
