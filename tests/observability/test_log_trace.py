"""One grep of the logs by notification id follows it from the API through every stage, one request id."""

import io
import json
import re
from typing import Any

import pytest
from flask import Flask

from notifier.extensions import db
from notifier.models import OutboxMessage
from notifier.observability.log_context import REQUEST_ID_HEADER
from notifier.observability.logs import LogFormat, log_format_of
from notifier.settings import Settings
from tests.integration import queries
from tests.plugins.app import AUTH, TOKEN, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

PIPELINE = ('router', 'generator', 'worker', 'sender')
STAGE_OF_TEXT_LINE = re.compile(r'stage=(\w+)')
REQUEST_ID_OF_TEXT_LINE = re.compile(r'request_id=(\S+?)[ \]]')


def _lines_about(logs: io.StringIO, notification_id: str) -> list[str]:
    """What ``grep NOTIFICATION_ID`` prints."""
    return [line for line in logs.getvalue().splitlines() if notification_id in line]


def _fields(line: str, log_format: LogFormat) -> dict[str, Any]:
    if log_format == 'json':
        return {'stage': None, 'request_id': None, **json.loads(line)}
    stage = STAGE_OF_TEXT_LINE.search(line)
    request_id = REQUEST_ID_OF_TEXT_LINE.search(line)
    return {
        'stage': stage.group(1) if stage else None,
        'request_id': request_id.group(1) if request_id else None,
        'message': line,
    }


def _stages_seen(logs: io.StringIO, notification_id: str, log_format: LogFormat) -> set[str]:
    return {_fields(line, log_format)['stage'] for line in _lines_about(logs, notification_id)} - {None}


def test_one_grep_by_notification_id_shows_every_stage_with_the_callers_request_id(
    smtp_app: Flask, smtp_server: RecordingHandler, captured_logs: io.StringIO, log_format: LogFormat,
) -> None:
    client = smtp_app.test_client()
    with running_consumers(smtp_app):
        response = client.post(
            '/api/v1/events', json=queries.WELCOME, headers={**AUTH, 'X-Request-ID': 'checkout-7f3a'},
        )
        notification_id = response.json['id']
        wait_for(lambda: queries.sent_delivery(smtp_app, notification_id), what='the mail')
        wait_for(
            lambda: _stages_seen(captured_logs, notification_id, log_format) >= set(PIPELINE),
            what='a log line of every stage',
        )

    assert response.headers['X-Request-ID'] == 'checkout-7f3a'
    lines = [_fields(line, log_format) for line in _lines_about(captured_logs, notification_id)]
    assert {line['request_id'] for line in lines} == {'checkout-7f3a'}
    assert any('accepted a welcome notification' in line['message'] for line in lines)  # the API's line
    sender_lines = [line for line in lines if line['stage'] == 'sender']
    delivery_id = queries.sent_delivery(smtp_app, notification_id).id
    assert all(delivery_id in json.dumps(line) for line in sender_lines)
    everything = captured_logs.getvalue()
    assert 'Привет Вася!' not in everything  # no mail body
    assert TOKEN not in everything  # no bearer token


def test_every_log_line_is_one_json_object_in_production_format(
    app: Flask, captured_logs: io.StringIO, log_format: LogFormat,
) -> None:
    queries.post_event(app.test_client(), queries.WELCOME)
    app.logger.warning('cannot reach amqp://guest:s3cret@rabbit:5672/ with header Bearer abc.DEF-123')

    logged = captured_logs.getvalue()
    assert 's3cret' not in logged
    assert 'abc.DEF-123' not in logged
    if log_format == 'json':
        records = [json.loads(line) for line in logged.splitlines()]
        assert {'time', 'level', 'logger', 'message'} <= set(records[-1])
        assert records[-1]['message'] == 'cannot reach amqp://guest:***@rabbit:5672/ with header Bearer ***'
        access = [record for record in records if record['logger'] == 'notifier.access']
        assert access[0]['message'] == 'POST /api/v1/events -> 202'
        assert access[0]['request_id']


def test_the_request_id_is_answered_and_stored_with_the_outbox_row(app: Flask) -> None:
    client = app.test_client()
    given = client.post('/api/v1/events', json=queries.WELCOME, headers={**AUTH, 'X-Request-ID': 'abc-123'})
    made = client.post('/api/v1/events', json=queries.welcome_to('b@example.com'), headers=AUTH)
    forged = client.post(
        '/api/v1/events',
        json=queries.welcome_to('c@example.com'),
        headers={**AUTH, 'X-Request-ID': 'x" level=ERROR forged=1'},
    )

    assert given.headers['X-Request-ID'] == 'abc-123'
    assert re.fullmatch('[0-9a-f]{32}', made.headers['X-Request-ID'])
    assert re.fullmatch('[0-9a-f]{32}', forged.headers['X-Request-ID'])  # unsafe to log: replaced
    with app.app_context():
        stored = {
            row.payload['notification_id']: row.headers[REQUEST_ID_HEADER]
            for row in db.session.scalars(db.select(OutboxMessage))
        }
    assert stored == {
        given.json['id']: 'abc-123',
        made.json['id']: made.headers['X-Request-ID'],
        forged.json['id']: forged.headers['X-Request-ID'],
    }


def test_every_answer_carries_a_request_id_even_an_error(app: Flask) -> None:
    client = app.test_client()

    assert client.get('/api/v1/notifications/nope').headers['X-Request-ID']  # 401
    assert client.get('/no/such/page').headers['X-Request-ID']  # 404


@pytest.mark.parametrize(('environment', 'configured', 'expected'), [
    ('production', 'auto', 'json'),
    ('development', 'auto', 'text'),
    ('production', 'text', 'text'),
    ('development', 'json', 'json'),
])
def test_production_logs_json_and_development_text_unless_told(
    environment: str, configured: str, expected: str,
) -> None:
    assert log_format_of(Settings(environment=environment, log_format=configured)) == expected
