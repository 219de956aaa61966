"""schemathesis against the served OpenAPI document: no 5xx, every answer as documented.

For each operation and each generation mode (data that fits the document,
and data that does not), at most ``MAX_EXAMPLES`` generated cases, on SQLite
and on PostgreSQL, sent through WSGI with a valid bearer token. The number
of cases run is printed in the ``schemathesis`` section of the pytest summary.

The operations are read from the checked-in ``docs/openapi.json`` to name the
tests; the cases are generated from the document the app serves (the two are
the same: ``test_openapi.py`` checks it). schemathesis' own pytest loader
(``schemathesis.pytest.from_fixture``) needs a pytest-internal attribute that
pytest 9.2 removed, so the cases are driven with ``hypothesis.given``.
"""

import datetime as dt
import json
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from notifier.extensions import db
from notifier.models import Delivery
from notifier.models.delivery import delivery_id_for
from tests.api.conftest import CASES_RUN
from tests.integration.queries import WELCOME, post_event
from tests.plugins.app import AUTH

MAX_EXAMPLES = 25
#: A valid body of each POST, mixed into the random ones so the success path is checked too.
VALID_BODIES = {
    '/api/v1/events': WELCOME,
    '/api/v1/schedules': {
        'name': 'fuzzed', 'cron': '0 9 * * 1', 'timezone': 'Europe/Moscow', 'type': 'info',
        'audience': {'kind': 'user', 'email': 'a@example.com'}, 'fields': {'title': 't', 'text': 'x'},
    },
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]
DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / 'docs' / 'openapi.json').read_text(encoding='utf-8'))
#: Negative data needs an input to break: operations without parameters or body get positive cases only.
OPERATIONS = [
    (method.upper(), path, operation)
    for path, path_item in DOCUMENT['paths'].items()
    for method, operation in path_item.items()
]
CASES = [
    (method, path, mode)
    for method, path, operation in OPERATIONS
    for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    if mode.is_positive or operation.get('parameters') or operation.get('requestBody')
]


@pytest.mark.parametrize(
    ('method', 'path', 'mode'), CASES, ids=['{0} {1} {2}'.format(*named) for named in CASES],
)
def test_api_conforms_to_its_document(app: Flask, method: str, path: str, mode: schemathesis.GenerationMode) -> None:
    seeded_id = _seed_a_sent_notification(app)
    operation = schemathesis.openapi.from_wsgi('/api/v1/openapi.json', app)[path][method]
    label = '{0} {1} ({2})'.format(method, path, mode.value)
    cases = operation.as_strategy(generation_mode=mode)
    if '{notification_id}' in path:  # also ask for one that exists, so its answer is checked too
        cases = st.one_of(cases, operation.as_strategy(mode, path_parameters={'notification_id': seeded_id}))
    if '{schedule_id}' in path:
        schedule_id = _seed_a_schedule(app)
        cases = st.one_of(cases, operation.as_strategy(mode, path_parameters={'schedule_id': schedule_id}))
    if method == 'POST' and mode.is_positive and path in VALID_BODIES:  # random bodies are rarely valid
        cases = st.one_of(cases, operation.as_strategy(mode, body=VALID_BODIES[path]))

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=cases)
    def cases_conform(case: schemathesis.Case) -> None:  # noqa: WPS430 - given needs the app's document
        response = case.call_and_validate(headers=dict(AUTH), checks=CHECKS)
        CASES_RUN[label][response.status_code] += 1

    cases_conform()


def _seed_a_schedule(app: Flask) -> str:
    """A schedule (with a name of its own, so fuzzed creations do not collide with it)."""
    body = {**VALID_BODIES['/api/v1/schedules'], 'name': 'seeded'}
    return str(app.test_client().post('/api/v1/schedules', json=body, headers=AUTH).json['id'])


def _seed_a_sent_notification(app: Flask) -> str:
    """A notification with a sent delivery, so answers with every field are generated and checked."""
    notification_id = post_event(app.test_client(), WELCOME, key='seed').json['id']
    recipient = WELCOME['meta']['email']
    with app.app_context():
        db.session.add(Delivery(
            id=delivery_id_for(notification_id, recipient, 'email'),
            notification_id=notification_id,
            recipient=recipient,
            channel='email',
            state='sent',
            attempts=1,
            sent_at=dt.datetime.now(dt.timezone.utc),
        ))
        db.session.commit()
    return notification_id
