"""The brief's bulk event (no meta.audience): its audience follows its type, opt-outs honoured."""

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from notifier.cli.users import users_group
from tests.integration import queries
from tests.plugins.app import AUTH, running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler
from tests.users.reference_server import ReferenceDirectory

#: Five users; Dima opted out of marketing; Anna and Boris follow the series "dark".
USERS_CSV = """id,email,name,shows
u1,anna@example.com,Анна,dark
u2,boris@example.com,Борис,dark;solaris
u3,vera@example.com,Вера,solaris
u4,gleb@example.com,Глеб,
u5,dima@example.com,Дима,dark
"""
EVERYONE = ('anna@example.com', 'boris@example.com', 'vera@example.com', 'gleb@example.com', 'dima@example.com')
BRIEF_META = {'urgency': 'immidiate', 'scale': 'bulk', 'periodic': False}
MARKETING_OFF = {'categories': {'marketing': {'enabled': False}}}


def _import_users(flask_app: Flask, tmp_path: Path) -> None:
    source = tmp_path / 'users.csv'
    source.write_text(USERS_CSV, encoding='utf-8')
    outcome = flask_app.test_cli_runner().invoke(users_group, ['import', str(source)])
    assert outcome.exit_code == 0, outcome.output


def _final_states(flask_app: Flask, notification_id: str, expected: int) -> dict[str, str] | None:
    rows = queries.deliveries_of(flask_app, notification_id)
    final = {row.recipient: row.state for row in rows if row.state in {'sent', 'skipped', 'failed'}}
    return final if len(final) == expected else None


def _mail_counts(smtp_server: RecordingHandler) -> dict[str, int]:
    counts = {address: len(smtp_server.to(address)) for address in EVERYONE}
    return {address: count for address, count in counts.items() if count}


def test_a_brief_shaped_info_event_mails_every_user_who_did_not_opt_out_once(
    smtp_users_app: Flask, smtp_server: RecordingHandler, tmp_path: Path,
) -> None:
    _import_users(smtp_users_app, tmp_path)
    client = smtp_users_app.test_client()
    assert client.put('/api/v1/users/u5/preferences', json=MARKETING_OFF, headers=AUTH).status_code == 200
    body = {'meta': BRIEF_META, 'type': 'info', 'fields': {'title': 'Премьера', 'text': 'Новый сезон'}}

    with running_consumers(smtp_users_app):
        accepted = queries.post_event(client, body)
        states = wait_for(lambda: _final_states(smtp_users_app, accepted.json['id'], 5), what='five deliveries')

    assert accepted.status_code == 202
    assert states == {
        'anna@example.com': 'sent', 'boris@example.com': 'sent', 'vera@example.com': 'sent',
        'gleb@example.com': 'sent', 'dima@example.com': 'skipped',
    }
    assert _mail_counts(smtp_server) == {
        'anna@example.com': 1, 'boris@example.com': 1, 'vera@example.com': 1, 'gleb@example.com': 1,
    }
    assert smtp_server.to('anna@example.com')[0]['Subject'] == 'Премьера'
    shown = client.get('/api/v1/notifications/{0}'.format(accepted.json['id']), headers=AUTH).json
    assert shown['status'] == 'sent'  # an opt-out is skipped, not failed


@pytest.mark.parametrize('naming', [
    pytest.param({'fields': {'show': 'dark', 'episode': 'S01E02'}}, id='fields.show'),
    pytest.param({'content_id': 'dark', 'fields': {'show': 'Тьма', 'episode': 'S01E02'}}, id='content_id'),
])
def test_a_brief_shaped_show_subs_event_mails_the_shows_subscribers(
    smtp_users_app: Flask, smtp_server: RecordingHandler, tmp_path: Path, naming: dict[str, Any],
) -> None:
    _import_users(smtp_users_app, tmp_path)
    body = {'meta': BRIEF_META, 'type': 'show_subs', **naming}

    with running_consumers(smtp_users_app):
        accepted = queries.post_event(smtp_users_app.test_client(), body)
        states = wait_for(lambda: _final_states(smtp_users_app, accepted.json['id'], 3), what='three deliveries')

    assert accepted.status_code == 202
    assert states == {'anna@example.com': 'sent', 'boris@example.com': 'sent', 'dima@example.com': 'sent'}
    assert _mail_counts(smtp_server) == {'anna@example.com': 1, 'boris@example.com': 1, 'dima@example.com': 1}


def test_the_auth_service_answers_a_shows_subscribers_as_the_segment_show_id(
    http_users_app: Flask, reference_users: ReferenceDirectory, smtp_server: RecordingHandler,
) -> None:
    reference_users.add('u1', segments=('show:dark',), email='anna@example.com', name='Анна')
    reference_users.add('u3', email='vera@example.com', name='Вера')
    body = {'meta': BRIEF_META, 'type': 'show_subs', 'content_id': 'dark', 'fields': {'show': 'Тьма'}}

    with running_consumers(http_users_app):
        accepted = queries.post_event(http_users_app.test_client(), body)
        states = wait_for(lambda: _final_states(http_users_app, accepted.json['id'], 1), what='the delivery')

    assert states == {'anna@example.com': 'sent'}
    assert _mail_counts(smtp_server) == {'anna@example.com': 1}
    assert 'GET /api/v1/users?segment=show%3Adark&limit=100' in reference_users.requests


@pytest.mark.parametrize(('body', 'message'), [
    ({'type': 'show_subs', 'fields': {'episode': 'S01E02'}}, 'names its show (content_id or fields.show)'),
    ({'type': 'welcome', 'fields': {'name': 'Вася'}}, 'a bulk welcome notification needs meta.audience'),
])
def test_a_bulk_event_whose_type_implies_no_audience_is_a_422_saying_what_to_give(
    users_app: Flask, body: dict[str, Any], message: str,
) -> None:
    answer = queries.post_event(users_app.test_client(), {'meta': BRIEF_META, **body})

    field_errors = answer.json['error']['fields']
    assert answer.status_code == 422
    assert message in field_errors['meta.audience'][0]
