"""POST /api/v1/events/batch: each event its own result, the valid ones stored together and sent once."""

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask

from notifier.schemas.event_batches import MAX_BATCH_EVENTS
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler


def _post_batch(app: Flask, entries: list[dict[str, Any]]) -> Any:
    return app.test_client().post('/api/v1/events/batch', json={'events': entries}, headers=AUTH)


def _entry(key: str, email: str) -> dict[str, Any]:
    return {'idempotency_key': key, 'event': queries.welcome_to(email)}


def test_each_event_of_a_batch_gets_its_own_result(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    earlier = queries.post_event(smtp_app.test_client(), queries.welcome_to('earlier@example.com'), key='k-earlier')
    entries = [
        _entry('k-new', 'new@example.com'),
        {'idempotency_key': 'k-bad', 'event': {'type': 'no-such-type'}},
        _entry('k-new', 'new@example.com'),  # the same key and event again, in the same batch
        _entry('k-earlier', 'earlier@example.com'),  # a retry of the event posted before
        _entry('k-earlier', 'someone-else@example.com'),  # that key with another event
        _entry('k-second', 'second@example.com'),
    ]

    answer = _post_batch(smtp_app, entries)

    assert answer.status_code == 200
    judged = answer.json['results']
    assert [entry['status'] for entry in judged] == [
        'accepted', 'invalid', 'replayed', 'replayed', 'conflict', 'accepted',
    ]
    assert judged[2]['id'] == judged[0]['id']
    assert judged[3]['id'] == earlier.json['id']
    assert judged[4]['id'] is None
    assert 'type' in judged[1]['errors']
    assert (answer.json['accepted'], answer.json['replayed'], answer.json['conflicts'], answer.json['invalid']) == (
        2, 2, 1, 1,
    )
    sent_ids = [judged[0]['id'], judged[5]['id'], earlier.json['id']]
    with running_consumers(smtp_app):
        wait_for(
            lambda: all(queries.sent_delivery(smtp_app, sent_id) for sent_id in sent_ids), what='each accepted mail',
        )
    assert sorted(mail['To'] for mail in smtp_server.messages) == [
        'earlier@example.com', 'new@example.com', 'second@example.com',
    ]


def test_the_same_batch_posted_again_is_replayed_and_sends_nothing_more(
    smtp_app: Flask, smtp_server: RecordingHandler,
) -> None:
    entries = [_entry('again-{0}'.format(number), 'again{0}@example.com'.format(number)) for number in range(5)]
    first = _post_batch(smtp_app, entries)
    second = _post_batch(smtp_app, entries)

    assert {entry['status'] for entry in first.json['results']} == {'accepted'}
    assert {entry['status'] for entry in second.json['results']} == {'replayed'}
    assert [entry['id'] for entry in second.json['results']] == [entry['id'] for entry in first.json['results']]
    with running_consumers(smtp_app):
        marker = queries.post_event(smtp_app.test_client(), queries.welcome_to('marker@example.com')).json
        wait_for(lambda: queries.sent_delivery(smtp_app, marker['id']), what='the marker mail')
        wait_for(lambda: len(smtp_server.messages) == 6, what='the five mails and the marker')
    assert len(smtp_server.messages) == 6


def test_a_malformed_batch_is_refused_whole(app: Flask) -> None:
    too_many = [_entry('k{0}'.format(number), 'x@example.com') for number in range(MAX_BATCH_EVENTS + 1)]
    without_key = [{'event': queries.WELCOME}]

    for body in ({'events': too_many}, {'events': without_key}, {'events': []}, {'no': 'events'}):
        answer = app.test_client().post('/api/v1/events/batch', json=body, headers=AUTH)
        assert answer.status_code == 422
        assert answer.json['error']['code'] == 'validation_failed'
    assert queries.notification(app, 'any') is None


def _doc_examples() -> tuple[Any, Any]:
    """The request and the answer docs/api.md shows under "Many events at once"."""
    text = (Path(__file__).resolve().parents[2] / 'docs' / 'api.md').read_text()
    section = text.split('## Many events at once', 1)[1].split('\n## ', 1)[0]
    request_body, answer = re.findall(r'```json\n(.*?)\n```', section, re.DOTALL)
    return json.loads(request_body), json.loads(answer)


def test_the_batch_docs_api_md_shows_answers_as_shown(app: Flask) -> None:
    request_body, shown = _doc_examples()

    answer = app.test_client().post('/api/v1/events/batch', json=request_body, headers=AUTH)

    assert answer.status_code == 200
    got = answer.json
    for entry, expected in zip(got['results'], shown['results'], strict=True):
        if expected['id'] == '…':
            assert entry['id']
            expected = {**expected, 'id': entry['id']}
        assert entry == expected
    assert {name: got[name] for name in shown if name != 'results'} == {
        name: expected_count for name, expected_count in shown.items() if name != 'results'
    }
