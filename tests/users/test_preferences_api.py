"""``GET/PUT /api/v1/users/<id>/preferences``: defaults, a round trip, 422 with the fields."""

from typing import Any

import pytest
from flask import Flask

from tests.plugins.app import AUTH

URL = '/api/v1/users/42/preferences'
CHOICES = {
    'opted_out': False,
    'time_zone': 'Europe/Moscow',
    'quiet_hours': {'start': '22:00', 'end': '08:00'},
    'categories': {
        'marketing': {'enabled': False, 'channels': {}},
        'service': {'enabled': True, 'channels': {'email': False, 'push': True}},
    },
}


def test_a_user_who_chose_nothing_gets_everything(users_app: Flask) -> None:
    answer = users_app.test_client().get(URL, headers=AUTH)

    assert answer.status_code == 200
    assert answer.json == {
        'user_id': '42',
        'opted_out': False,
        'time_zone': None,
        'quiet_hours': None,
        'categories': {
            'service': {'enabled': True, 'channels': {}},
            'marketing': {'enabled': True, 'channels': {}},
        },
    }


def test_put_replaces_the_preferences_and_get_reads_them_back(users_app: Flask) -> None:
    client = users_app.test_client()

    stored = client.put(URL, json=CHOICES, headers=AUTH)
    again = client.put(URL, json=CHOICES, headers=AUTH)
    read = client.get(URL, headers=AUTH)
    cleared = client.put(URL, json={'opted_out': True}, headers=AUTH)

    assert stored.status_code == again.status_code == read.status_code == 200
    assert read.json == {'user_id': '42', **CHOICES}
    assert cleared.json['opted_out'] is True
    assert cleared.json['quiet_hours'] is None
    assert cleared.json['categories']['service'] == {'enabled': True, 'channels': {}}


@pytest.mark.parametrize(('body', 'field'), [
    ({'categories': {'transactional': {'enabled': False}}}, 'categories'),
    ({'categories': {'marketing': {'enabled': 'sometimes'}}}, 'categories'),
    ({'categories': {'marketing': {'channels': {'*': False}}}}, 'categories'),
    ({'time_zone': 'Mars/Olympus'}, 'time_zone'),
    ({'quiet_hours': {'start': '25:00', 'end': '08:00'}}, 'quiet_hours'),
    ({'quiet_hours': {'start': '22:00'}}, 'quiet_hours'),
    ({'opted_out': 'yes please'}, 'opted_out'),
    ({'colour': 'blue'}, 'colour'),
])
def test_bad_preferences_are_a_422_naming_the_field(users_app: Flask, body: dict[str, Any], field: str) -> None:
    client = users_app.test_client()

    answer = client.put(URL, json=body, headers=AUTH)

    assert answer.status_code == 422
    assert answer.json['error']['code'] == 'validation_failed'
    assert field in answer.json['error']['fields']
    assert client.get(URL, headers=AUTH).json['categories']['marketing']['enabled'] is True


def test_not_json_is_a_400_and_no_token_is_a_401(users_app: Flask) -> None:
    client = users_app.test_client()

    assert client.put(URL, data='nope', headers=AUTH).status_code == 400
    assert client.get(URL).status_code == 401
    assert client.put('/api/v1/users/{0}/preferences'.format('x' * 65), json={}, headers=AUTH).status_code == 422
