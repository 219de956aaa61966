"""The HTTP API as a calling service sees it: auth, validation, idempotency, reading."""

import pytest
from flask import Flask

from notifier import idle_ping
from notifier.extensions import db
from notifier.models import OutboxMessage
from tests.integration.queries import WELCOME, post_event
from tests.plugins.app import AUTH


def test_events_need_a_bearer_token(app: Flask) -> None:
    client = app.test_client()

    missing = client.post('/api/v1/events', json=WELCOME)
    wrong = client.post('/api/v1/events', json=WELCOME, headers={'Authorization': 'Bearer nope'})

    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert wrong.json == {'error': {'code': 'unauthorized', 'message': 'unknown bearer token'}}


def test_accepted_event_returns_its_id_and_is_stored_with_an_outbox_row(app: Flask) -> None:
    response = post_event(app.test_client(), WELCOME, key='reg-42')

    assert response.status_code == 202
    assert response.json['status'] == 'accepted'
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage)).all()
        assert [row.payload['notification_id'] for row in rows] == [response.json['id']]


def test_same_key_same_body_returns_the_same_notification(app: Flask) -> None:
    client = app.test_client()

    first = post_event(client, WELCOME, key='reg-42')
    second = post_event(client, WELCOME, key='reg-42')

    assert second.status_code == 202
    assert second.json['id'] == first.json['id']
    assert second.json['replayed'] is True
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1


def test_same_key_other_body_is_a_conflict(app: Flask) -> None:
    client = app.test_client()
    post_event(client, WELCOME, key='reg-42')

    other = post_event(client, {**WELCOME, 'fields': {'name': 'Петя'}}, key='reg-42')

    assert other.status_code == 409
    assert other.json['error']['code'] == 'idempotency_conflict'


def test_not_json_is_a_400(app: Flask) -> None:
    response = app.test_client().post(
        '/api/v1/events', data='{not json', headers={**AUTH, 'Content-Type': 'application/json'},
    )

    assert response.status_code == 400
    assert response.json['error']['code'] == 'bad_json'


def test_invalid_fields_are_a_422_with_each_field_error(app: Flask) -> None:
    body = {'meta': {'urgency': 'soon', 'email': 'not-an-address'}, 'type': 'party', 'fields': {}}

    response = post_event(app.test_client(), body)

    assert response.status_code == 422
    fields = response.json['error']['fields']
    assert set(fields) == {'meta', 'type'}
    assert set(fields['meta']) == {'urgency', 'email'}


def test_an_individual_event_needs_a_recipient(app: Flask) -> None:
    response = post_event(app.test_client(), {'type': 'info', 'fields': {'title': 't', 'text': 'x'}})

    assert response.status_code == 422
    assert 'meta.email' in response.json['error']['fields']


def test_correct_spellings_are_accepted_too(app: Flask) -> None:
    body = {
        'meta': {'urgency': 'immediate', 'email': 'a@example.com'},
        'type': 'info',
        'custom_template': 'info',
        'fields': {'title': 'Hi', 'text': 'there'},
    }

    assert post_event(app.test_client(), body).status_code == 202


def test_unknown_notification_is_a_404(app: Flask) -> None:
    response = app.test_client().get('/api/v1/notifications/nope', headers=AUTH)

    assert response.status_code == 404
    assert response.json['error']['code'] == 'not_found'


def test_health_and_readiness(app: Flask) -> None:
    client = app.test_client()

    assert client.get('/healthz').json == {'status': 'ok'}
    assert client.get('/readyz').json == {'status': 'ready'}


def test_a_lone_event_after_an_idle_spell_is_accepted(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle ping checks the connection first; it must hand it out idle, so the lone event can autocommit."""
    monkeypatch.setattr(idle_ping, 'IDLE_PING_SECONDS', -1)  # every checkout is after an idle spell
    lone = {'type': 'info', 'meta': {'email': 'after-idle@example.com'}, 'fields': {'title': 't', 'text': 'x'}}
    client = app.test_client()

    answers = [post_event(client, lone) for _ in range(2)]

    assert [response.status_code for response in answers] == [202, 202], answers[-1].json


def test_a_lone_event_is_stored_with_its_outbox_row_and_leaves_the_pool_transactional(app: Flask) -> None:
    """No key, no mailing, no user: one autocommitted statement on PostgreSQL; the pool gets its connection back."""
    lone = {'type': 'info', 'meta': {'email': 'lone@example.com'}, 'fields': {'title': 't', 'text': 'x'}}
    client = app.test_client()

    accepted = [post_event(client, lone) for _ in range(3)]

    assert [response.status_code for response in accepted] == [202, 202, 202]
    with app.app_context():
        rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [row.payload['notification_id'] for row in rows] == [response.json['id'] for response in accepted]
        assert all(row.headers and row.headers.get('x-notifier-request-id') for row in rows)
        db.session.execute(db.delete(OutboxMessage))
        db.session.rollback()  # a transaction again: the delete is undone
        assert len(db.session.scalars(db.select(OutboxMessage)).all()) == 3
