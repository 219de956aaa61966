"""Bearer tokens with scopes: each ``/api/v1`` operation needs one scope; a token without it gets a 403."""

import hmac
import uuid
from typing import Any

import pytest
from flask import Flask

from notifier.api import auth
from notifier.errors import SettingsError
from notifier.settings import API_SCOPES, load_settings
from tests.integration.queries import WELCOME
from tests.plugins.app import TOKEN
from tests.security.conftest import SCOPED_TOKENS, bearer

#: The table of docs/api.md ("Token scopes"): what each operation needs.
SCOPE_TABLE = {
    ('POST', '/api/v1/events'): 'events:write',
    ('POST', '/api/v1/events/batch'): 'events:write',
    ('GET', '/api/v1/notifications'): 'read',
    ('GET', '/api/v1/notifications/<notification_id>'): 'read',
    ('DELETE', '/api/v1/notifications/<notification_id>'): 'events:write',
    ('POST', '/api/v1/notifications/<notification_id>/cancel'): 'events:write',
    ('GET', '/api/v1/notifications/<notification_id>/clicks'): 'read',
    ('GET', '/api/v1/mailings/<notification_id>'): 'read',
    ('POST', '/api/v1/mailings/<notification_id>/<action>'): 'admin',
    ('GET', '/api/v1/limits'): 'read',
    ('PUT', '/api/v1/limits/<name>'): 'admin',
    ('DELETE', '/api/v1/limits/<name>'): 'admin',
    ('POST', '/api/v1/schedules'): 'admin',
    ('GET', '/api/v1/schedules'): 'read',
    ('GET', '/api/v1/schedules/<schedule_id>'): 'read',
    ('PATCH', '/api/v1/schedules/<schedule_id>'): 'admin',
    ('DELETE', '/api/v1/schedules/<schedule_id>'): 'admin',
    ('GET', '/api/v1/users/<user_id>/inbox'): 'read',
    ('POST', '/api/v1/users/<user_id>/inbox/<item_id>/read'): 'users:write',
    ('POST', '/api/v1/users/<user_id>/inbox/read-all'): 'users:write',
    ('GET', '/api/v1/users/<user_id>/preferences'): 'read',
    ('PUT', '/api/v1/users/<user_id>/preferences'): 'users:write',
}
#: Routes under /api/v1 that are open: the contract and its page.
OPEN_ENDPOINTS = frozenset(('docs.openapi_document', 'docs.docs_page'))
#: A value for each variable of a rule (ids that name nothing: the answer may be a 404, never a 401 or 403).
PATH_VALUES = {
    '<notification_id>': str(uuid.uuid4()),
    '<schedule_id>': str(uuid.uuid4()),
    '<item_id>': str(uuid.uuid4()),
    '<user_id>': 'anna',
    '<action>': 'pause',
    '<name>': 'channel.email.send',
}
REFUSED = frozenset((401, 403))


class CountingCompare:
    """``hmac.compare_digest`` that also notes the length of each comparison."""

    def __init__(self) -> None:
        self.lengths: list[int] = []
        self._compare = hmac.compare_digest

    def __call__(self, left: bytes, right: bytes) -> bool:
        self.lengths.append(len(right))
        return self._compare(left, right)


def _path(rule: str) -> str:
    for placeholder, path_value in PATH_VALUES.items():
        rule = rule.replace(placeholder, path_value)
    return rule


def _call(app: Flask, method: str, rule: str, token: str | None) -> Any:
    headers = {} if token is None else bearer(token)
    body = {} if method in {'POST', 'PUT', 'PATCH'} else None
    return app.test_client().open(_path(rule), method=method, headers=headers, json=body)


def _declared(app: Flask) -> dict[tuple[str, str], str]:
    declared = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith('/api/v1/') or rule.endpoint in OPEN_ENDPOINTS:
            continue
        for method in sorted((rule.methods or set()) - {'HEAD', 'OPTIONS'}):
            declared[(method, rule.rule)] = auth.scope_of(app.view_functions[rule.endpoint])
    return declared


def test_the_scopes_of_the_docs_are_the_scopes_the_service_knows() -> None:
    assert set(API_SCOPES) == {auth.EVENTS_WRITE, auth.READ, auth.USERS_WRITE, auth.ADMIN}
    assert set(SCOPE_TABLE.values()) == set(API_SCOPES)


def test_every_api_operation_needs_the_scope_of_the_table(app: Flask) -> None:
    assert _declared(app) == SCOPE_TABLE


def test_the_document_names_the_scope_and_the_403_of_each_operation(app: Flask) -> None:
    paths = app.test_client().get('/api/v1/openapi.json').json['paths']

    for (method, rule), scope in SCOPE_TABLE.items():
        operation = paths[rule.replace('<', '{').replace('>', '}')][method.lower()]
        assert operation['x-required-scope'] == scope, (method, rule)
        assert operation['responses']['403'] == {'$ref': '#/components/responses/Forbidden'}, (method, rule)


def _surprises(app: Flask, method: str, rule: str, needed: str) -> list[tuple[str, str, str | None, int]]:
    """The calls of one operation whose answer is not the expected one (with the token's scope and the status)."""
    surprises = []
    for scope, token in SCOPED_TOKENS.items():
        status = _call(app, method, rule, token).status_code
        if (status not in REFUSED) != (scope == needed):
            surprises.append((method, rule, scope, status))
    for other_token, expected in ((TOKEN, False), (None, True), ('no-such-token', True)):
        status = _call(app, method, rule, other_token).status_code
        if (status == 401) != expected or status == 403:
            surprises.append((method, rule, other_token, status))
    return surprises


def test_each_token_reaches_exactly_the_operations_of_its_scope(scoped_app: Flask) -> None:
    surprises = [
        surprise
        for (method, rule), needed in SCOPE_TABLE.items()
        for surprise in _surprises(scoped_app, method, rule, needed)
    ]

    assert not surprises, surprises


def test_a_token_without_the_scope_gets_a_403_in_the_error_shape(scoped_app: Flask) -> None:
    response = scoped_app.test_client().post(
        '/api/v1/schedules', json={'name': 'weekly'}, headers=bearer(SCOPED_TOKENS['read']),
    )

    assert response.status_code == 403
    assert response.json == {'error': {
        'code': 'insufficient_scope',
        'message': 'this token may not call POST /api/v1/schedules: that needs the scope admin',
    }}
    assert response.headers['WWW-Authenticate'] == 'Bearer error="insufficient_scope", scope="admin"'


def test_an_unknown_token_is_still_a_401(scoped_app: Flask) -> None:
    response = scoped_app.test_client().get('/api/v1/notifications', headers=bearer('read-token-but-longer'))

    assert response.status_code == 401
    assert response.json == {'error': {'code': 'unauthorized', 'message': 'unknown bearer token'}}
    assert response.headers['WWW-Authenticate'] == 'Bearer'


def test_a_service_with_events_write_announces_and_cancels_but_reads_nothing(scoped_app: Flask) -> None:
    client = scoped_app.test_client()
    writer, reader = bearer(SCOPED_TOKENS['events:write']), bearer(SCOPED_TOKENS['read'])
    scheduled = {**WELCOME, 'meta': {**WELCOME['meta'], 'scheduled_at': '2999-01-01T09:00:00+00:00'}}

    accepted = client.post('/api/v1/events', json=scheduled, headers=writer)
    notification_path = '/api/v1/notifications/{0}'.format(accepted.json['id'])
    hidden = client.get(notification_path, headers=writer)
    shown = client.get(notification_path, headers=reader)
    not_cancelled = client.post('{0}/cancel'.format(notification_path), headers=reader)
    cancelled = client.post('{0}/cancel'.format(notification_path), headers=writer)

    assert accepted.status_code == 202
    assert hidden.status_code == 403
    assert shown.status_code == 200
    assert shown.json['id'] == accepted.json['id']
    assert not_cancelled.status_code == 403
    assert cancelled.status_code == 200
    assert cancelled.json['status'] == 'cancelled'


def test_every_configured_token_is_compared_whichever_matches(
    scoped_app: Flask, monkeypatch: pytest.MonkeyPatch,
) -> None:
    counting = CountingCompare()
    monkeypatch.setattr(auth.hmac, 'compare_digest', counting)
    client = scoped_app.test_client()
    counts = []
    for token in (TOKEN, SCOPED_TOKENS['admin'], 'unknown'):
        counting.lengths.clear()
        client.get('/api/v1/limits', headers=bearer(token))
        counts.append(len(counting.lengths))

    configured = len(SCOPED_TOKENS) + 1
    assert counts == [configured, configured, configured]  # no early exit, whether the first, the last or none
    assert set(counting.lengths) == {32}  # equal-length digests: a token's length is not timed either


def test_a_token_listed_alone_keeps_every_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NOTIFIER_API_TOKENS', 'plain, limited:read+events:write , spaced : admin ')

    scopes = load_settings().token_scopes

    assert dict(scopes) == {
        'plain': frozenset(API_SCOPES),
        'limited': frozenset(('read', 'events:write')),
        'spaced': frozenset(('admin',)),
    }
    assert load_settings().tokens == frozenset(('plain', 'limited', 'spaced'))


@pytest.mark.parametrize(('tokens', 'problem'), [
    ('s3cr3t:reed', "entry 1: unknown scope 'reed'; the scopes are events:write, read, users:write, admin"),
    ('ok, s3cr3t:', "entry 2: unknown scope ''"),
    (':read', "entry 1 has no token before ':'"),
    ('s3cr3t:read, s3cr3t:admin', 'entry 2 repeats an earlier token with other scopes'),
])
def test_a_bad_token_entry_stops_the_start_without_showing_the_token(
    monkeypatch: pytest.MonkeyPatch, tokens: str, problem: str,
) -> None:
    monkeypatch.setenv('NOTIFIER_API_TOKENS', tokens)

    with pytest.raises(SettingsError) as raised:
        load_settings()

    assert 'NOTIFIER_API_TOKENS' in str(raised.value)
    assert problem in str(raised.value)
    assert 's3cr3t' not in str(raised.value)
