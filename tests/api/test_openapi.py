"""The OpenAPI document: served without a token, complete, and the same as the checked-in copy."""

import json
from pathlib import Path

from flask import Flask

from notifier.api.contracts import DOCUMENTED
from notifier.api.openapi import REGENERATE, undocumented_endpoints

CHECKED_IN = Path(__file__).resolve().parents[2] / 'docs' / 'openapi.json'


def test_served_document_matches_the_checked_in_one(app: Flask) -> None:
    response = app.test_client().get('/api/v1/openapi.json')

    assert response.status_code == 200
    assert response.mimetype == 'application/json'
    checked_in = json.loads(CHECKED_IN.read_text(encoding='utf-8'))
    assert response.json == checked_in, 'docs/openapi.json is stale; regenerate it with: {0}'.format(REGENERATE)


def test_every_route_is_in_the_contract(app: Flask) -> None:
    assert undocumented_endpoints(app) == set(), 'add these endpoints to notifier/api/contract.py'


def test_document_describes_every_endpoint_with_its_answers(app: Flask) -> None:
    paths = app.test_client().get('/api/v1/openapi.json').json['paths']

    assert set(paths['/api/v1/events']['post']['responses']) == {  # 200, 201: a periodic event's schedule
        '200', '201', '202', '400', '401', '403', '409', '413', '422', '500',
    }
    assert set(paths['/api/v1/notifications']['get']['responses']) == {'200', '400', '401', '403', '500'}
    assert set(paths['/api/v1/notifications/{notification_id}']['get']['responses']) == {
        '200', '401', '403', '404', '500',
    }
    assert set(paths['/healthz']['get']['responses']) == {'200'}
    assert set(paths['/readyz']['get']['responses']) == {'200', '503'}
    assert set(paths['/api/v1/schedules']['post']['responses']) == {
        '201', '400', '401', '403', '409', '413', '422', '500',
    }
    assert set(paths['/api/v1/notifications/{notification_id}/cancel']['post']['responses']) == {
        '200', '401', '403', '404', '409', '500',
    }
    assert sum(len(operations) for operations in DOCUMENTED.values()) == sum(
        len(path_item) for path_item in paths.values()
    )


def test_operations_under_api_v1_need_the_bearer_token(app: Flask) -> None:
    document = app.test_client().get('/api/v1/openapi.json').json

    assert document['components']['securitySchemes']['bearerAuth'] == {
        'type': 'http', 'scheme': 'bearer', 'description': 'One of NOTIFIER_API_TOKENS.',
    }
    for path, path_item in document['paths'].items():
        for operation in path_item.values():
            expected = [{'bearerAuth': []}] if path.startswith('/api/v1/') else []
            assert operation['security'] == expected, path


def test_docs_page_lists_every_operation_and_schema(app: Flask) -> None:
    client = app.test_client()
    document = client.get('/api/v1/openapi.json').json

    page = client.get('/api/v1/docs')

    assert page.status_code == 200
    assert page.mimetype == 'text/html'
    html = page.get_data(as_text=True)
    for path in document['paths']:
        assert '<code>{0}</code>'.format(path) in html
    for schema_name in document['components']['schemas']:
        assert 'id="schema-{0}"'.format(schema_name) in html
    assert '<script' not in html  # nothing to fetch from a CDN
