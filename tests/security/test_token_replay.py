"""A user's websocket or unsubscribe token works for that user only, and for its own purpose only.

Both kinds are signed with one secret here (``NOTIFIER_WEBSOCKET_SECRET`` and
``NOTIFIER_SECRET_KEY`` the same), the worst case a deployment may choose.
"""

import base64
import json
import time
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from websockets.sync.client import connect

from notifier.extensions import db
from notifier.inbox.store import NewItem, file_item
from notifier.inbox.tokens import BadTokenError, issue_token, verify_token
from notifier.pipeline.users_setup import links_from_settings
from notifier.settings import settings_of
from tests.inbox.browsers import RECEIVE_TIMEOUT, handshake_status, socket_url
from tests.inbox.conftest import Api
from tests.integration.queries import post_event, welcome_to
from tests.plugins.app import AUTH
from tests.security.conftest import SHARED_SECRET, bearer

ONE_CLICK = {'List-Unsubscribe': 'One-Click'}
LATER = '2999-01-01T09:00:00+00:00'


def _socket_token(user_id: str) -> str:
    return issue_token(SHARED_SECRET, user_id, int(time.time()) + 300)


def _unsubscribe_token(flask_app: Flask, subject: str, category: str = 'marketing') -> str:
    return links_from_settings(settings_of(flask_app)).url(subject, category).rsplit('/', 1)[1]


def _spliced(victim_token: str, own_token: str) -> str:
    """The victim's signed part with the attacker's own (valid) signature."""
    return '{0}.{1}'.format(victim_token.rsplit('.', 1)[0], own_token.rsplit('.', 1)[1])


def _file_unread(flask_app: Flask, user_id: str, title: str) -> None:
    """One unread inbox item of the user (its notification is a welcome mail due in 2999)."""
    event = welcome_to('{0}@example.com'.format(user_id))
    event['meta'] = {**event['meta'], 'scheduled_at': LATER}
    accepted = post_event(flask_app.test_client(), event).json
    with flask_app.app_context():
        file_item(db.session(), NewItem(
            user_id=user_id,
            notification_id=accepted['id'],
            delivery_id=accepted['id'],
            title=title,
            body=title,
        ))


def _receive(client: Any) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(client.recv(timeout=RECEIVE_TIMEOUT))
    return decoded


def _marketing_enabled(flask_app: Flask, user_id: str) -> bool:
    shown = flask_app.test_client().get('/api/v1/users/{0}/preferences'.format(user_id), headers=AUTH).json
    return bool(shown['categories']['marketing']['enabled'])


def test_annas_socket_gets_annas_items_even_when_it_asks_for_boris(
    shared_secret_app: Flask, api_process: Api,
) -> None:
    _file_unread(shared_secret_app, 'anna', 'Для Анны')
    _file_unread(shared_secret_app, 'boris', 'Для Бориса')
    ws_url = '{0}&user_id=boris&user=boris'.format(socket_url(api_process.ws, _socket_token('anna')))

    with connect(ws_url, open_timeout=RECEIVE_TIMEOUT) as client:
        hello = _receive(client)
        backlog = [_receive(client) for _ in range(hello['unread'])]

    assert hello == {'type': 'hello', 'user_id': 'anna', 'unread': 1}
    assert [message['title'] for message in backlog] == ['Для Анны']


def test_a_websocket_token_with_another_users_id_spliced_in_is_refused(
    shared_secret_app: Flask, api_process: Api,
) -> None:
    anna = _socket_token('anna')
    boris_id = base64.urlsafe_b64encode(b'boris').decode().rstrip('=')
    renamed = '{0}.{1}'.format(boris_id, anna.split('.', 1)[1])
    spliced = _spliced(_socket_token('boris'), anna)

    assert handshake_status(api_process.ws, anna) == 101
    assert handshake_status(api_process.ws, renamed) == 401
    assert handshake_status(api_process.ws, spliced) == 401
    for forged in (renamed, spliced):
        with pytest.raises(BadTokenError, match='bad signature'):
            verify_token(SHARED_SECRET, forged, time.time())


def test_a_websocket_token_does_not_open_the_inbox_api(shared_secret_app: Flask) -> None:
    client = shared_secret_app.test_client()
    anna = _socket_token('anna')

    answers = [
        client.get('/api/v1/users/boris/inbox', headers=bearer(anna)),
        client.get('/api/v1/users/anna/inbox', headers=bearer(anna)),
        client.get('/api/v1/users/boris/inbox?token={0}'.format(quote(anna, safe=''))),
        client.post('/api/v1/users/boris/inbox/read-all', headers=bearer(anna)),
    ]

    assert {answer.status_code for answer in answers} == {401}
    assert {answer.json['error']['code'] for answer in answers} == {'unauthorized'}


def test_annas_unsubscribe_link_turns_off_only_anna(shared_secret_app: Flask) -> None:
    client = shared_secret_app.test_client()
    anna = _unsubscribe_token(shared_secret_app, 'user:anna')
    boris = _unsubscribe_token(shared_secret_app, 'user:boris')
    annas_service = _unsubscribe_token(shared_secret_app, 'user:anna', 'service')

    forged = [
        _spliced(boris, anna),  # Boris's payload, Anna's signature
        _spliced(_unsubscribe_token(shared_secret_app, 'user:anna', 'marketing'), annas_service),
    ]
    refused = [client.post('/unsubscribe/{0}'.format(token), data=ONE_CLICK).status_code for token in forged]
    boris_after_forgeries = _marketing_enabled(shared_secret_app, 'boris')
    done = client.post('/unsubscribe/{0}'.format(anna), data=ONE_CLICK)

    assert refused == [400, 400]
    assert boris_after_forgeries
    assert done.status_code == 200
    assert not _marketing_enabled(shared_secret_app, 'anna')
    assert _marketing_enabled(shared_secret_app, 'boris')


def test_one_kind_of_token_is_not_accepted_as_the_other(shared_secret_app: Flask, api_process: Api) -> None:
    socket_token = _socket_token('anna')
    unsubscribe_token = _unsubscribe_token(shared_secret_app, 'user:anna')

    unsubscribed = shared_secret_app.test_client().post('/unsubscribe/{0}'.format(socket_token), data=ONE_CLICK)

    assert unsubscribed.status_code == 400
    assert _marketing_enabled(shared_secret_app, 'anna')
    assert handshake_status(api_process.ws, unsubscribe_token) == 401
    assert handshake_status(api_process.ws, socket_token) == 101
