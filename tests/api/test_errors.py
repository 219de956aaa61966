"""Every 4xx and 5xx answers ``{"error": {"code", "message", "fields"?}}``, never HTML or a traceback."""

import logging

import pytest
from flask import Flask

from tests.integration.queries import WELCOME, post_event
from tests.plugins.app import AUTH

ONE_MIB = 1024 * 1024


def test_unknown_route_is_a_json_404(app: Flask) -> None:
    response = app.test_client().get('/api/v1/nothing-here', headers=AUTH)

    assert response.status_code == 404
    assert response.json['error']['code'] == 'not_found'
    assert set(response.json) == {'error'}


def test_wrong_method_is_a_json_405_that_names_the_allowed_ones(app: Flask) -> None:
    response = app.test_client().delete('/api/v1/events', headers=AUTH)

    assert response.status_code == 405
    assert response.json['error']['code'] == 'method_not_allowed'
    assert 'POST' in response.headers['Allow']


def test_a_body_over_one_mib_is_a_json_413(app: Flask) -> None:
    body = '{{"fields": {{"text": "{0}"}}}}'.format('x' * ONE_MIB)

    response = app.test_client().post(
        '/api/v1/events', data=body, headers={**AUTH, 'Content-Type': 'application/json'},
    )

    assert response.status_code == 413
    assert response.json['error']['code'] == 'request_entity_too_large'


def _explode() -> str:
    raise RuntimeError('secret detail of the failure')


def test_an_unexpected_exception_is_a_logged_500_without_a_traceback(
    app: Flask, caplog: pytest.LogCaptureFixture,
) -> None:
    app.add_url_rule('/explode', 'explode', _explode)

    with caplog.at_level(logging.ERROR, logger='notifier.api.errors'):
        response = app.test_client().get('/explode')

    assert response.status_code == 500
    assert response.json == {
        'error': {'code': 'internal_error', 'message': 'an unexpected error occurred; it was logged'},
    }
    assert 'secret detail' not in response.get_data(as_text=True)
    assert [record.exc_info[1] for record in caplog.records if record.exc_info][0].args == (
        'secret detail of the failure',
    )


def test_a_401_names_the_bearer_scheme(app: Flask) -> None:
    response = app.test_client().get('/api/v1/notifications')

    assert response.status_code == 401
    assert response.headers['WWW-Authenticate'] == 'Bearer'
    assert response.json['error']['code'] == 'unauthorized'


def test_a_bad_query_is_a_400_with_the_error_of_each_parameter(app: Flask) -> None:
    response = app.test_client().get('/api/v1/notifications?limit=0&status=NOT%20A%20STATUS', headers=AUTH)

    assert response.status_code == 400
    assert response.json['error']['code'] == 'bad_query'
    assert set(response.json['error']['fields']) == {'limit', 'status'}


@pytest.mark.parametrize('body', [
    '{0}{1}'.format('[' * 100000, ']' * 100000),  # deeper than the JSON parser goes
    r'{"type": "welcome", "fields": {"name": "\ud800"}}',  # a lone surrogate cannot be stored
    '"just a string"',
])
def test_json_the_service_cannot_take_is_a_400(app: Flask, body: str) -> None:
    response = app.test_client().post(
        '/api/v1/events', data=body, headers={**AUTH, 'Content-Type': 'application/json'},
    )

    assert response.status_code == 400
    assert response.json['error']['code'] == 'bad_json'


@pytest.mark.parametrize(('meta', 'fields', 'invalid'), [
    ({'scheduled_at': '0001-01-01T00:00:00+05:00'}, {}, 'meta'),
    ({'user_id': 'a\x00b'}, {}, 'meta'),
    ({'email': '{0}@example.com'.format('a' * 320)}, {}, 'meta'),
    ({}, {'user_id': 'x' * 65}, 'fields.user_id'),
])
def test_values_the_database_cannot_store_are_a_422(
    app: Flask, meta: dict[str, str], fields: dict[str, str], invalid: str,
) -> None:
    body = {**WELCOME, 'meta': {**WELCOME['meta'], **meta}, 'fields': {**WELCOME['fields'], **fields}}

    response = post_event(app.test_client(), body)

    assert response.status_code == 422
    assert invalid in response.json['error']['fields']


def test_an_id_that_cannot_exist_is_a_404(app: Flask) -> None:
    client = app.test_client()

    with_nul = client.get('/api/v1/notifications/a%00b', headers=AUTH)
    too_long = client.get('/api/v1/notifications/{0}'.format('x' * 1000), headers=AUTH)

    assert with_nul.status_code == too_long.status_code == 404
    assert with_nul.json['error']['code'] == 'not_found'
