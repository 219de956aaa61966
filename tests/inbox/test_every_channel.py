"""Issue 10's bar: one notification to a user's websocket, SMS and push channels reaches each."""

from collections.abc import Callable

import pytest
from flask import Flask

from notifier.extensions import db
from notifier.models import User
from tests.channels_links.stub_provider import serving
from tests.inbox.browsers import Tab, call_api
from tests.inbox.conftest import Api, token_for
from tests.integration.queries import deliveries_of
from tests.plugins.app import running_consumers, wait_for

PHONE = '+79991234567'
DEVICE = 'device-token-0123456789abcdef'


def _all_sent(app: Flask, notification_id: str, count: int) -> bool:
    states = [row.state for row in deliveries_of(app, notification_id)]
    return len(states) == count and set(states) == {'sent'}


def test_one_notification_reaches_the_live_socket_the_sms_provider_and_the_push_provider(
    inbox_app: Flask, api_processes: Callable[..., Api], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with inbox_app.app_context():
        anna = db.session.get(User, 'anna')
        assert anna is not None
        anna.phone = PHONE
        anna.push_tokens = [DEVICE]
        db.session.commit()
    with serving('/sms') as sms, serving('/push') as push:
        monkeypatch.setenv('NOTIFIER_SMS_URL', sms.url)
        monkeypatch.setenv('NOTIFIER_PUSH_URL', push.url)
        api = api_processes()
        tab = Tab(api.ws, token_for('anna'))
        tab.hello_and_backlog()
        with running_consumers(inbox_app):
            accepted = call_api(api.url, 'POST', '/api/v1/events', {
                'meta': {'urgency': 'immediate', 'user_id': 'anna'},
                'type': 'info',
                'channels': ['websocket', 'sms', 'push'],
                'fields': {'title': 'Премьера', 'text': 'Сегодня в 20:00'},
            })
            live = tab.next_message()
            wait_for(lambda: _all_sent(inbox_app, accepted['id'], 3), what='the three deliveries')

        assert live['title'] == 'Премьера'
        assert [message['to'] for message in sms.accepted()] == [PHONE]
        assert [message['token'] for message in push.accepted()] == [DEVICE]
