"""Live websocket delivery across API processes, the inbox behind it, and the token at the door."""

import json
import socket
import time
from collections.abc import Callable

import pytest
from flask import Flask
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from notifier.channels.base import OutgoingMessage
from notifier.channels.websocket import WebSocketChannel
from notifier.inbox.tokens import issue_token
from tests.inbox.browsers import RECEIVE_TIMEOUT, Tab, call_api, handshake_status, notify, plain_get, socket_url
from tests.inbox.conftest import SECRET, Api, ApiProcesses, token_for
from tests.integration.queries import deliveries_of, sent_delivery
from tests.plugins.app import running_consumers, wait_for

StartApi = Callable[..., Api]


def _connected(api: Api, user_id: str) -> Tab:
    tab = Tab(api.ws, token_for(user_id))
    _, backlog = tab.hello_and_backlog()
    assert not backlog
    return tab


def test_one_notification_reaches_the_users_tab_on_each_api_process_once(
    inbox_app: Flask, api_processes: StartApi,
) -> None:
    first, second = api_processes(), api_processes()
    anna_tabs = [_connected(first, 'anna'), _connected(second, 'anna')]
    boris_tab = _connected(second, 'boris')

    with running_consumers(inbox_app):
        notification_id = notify(first.url, 'anna', 'Премьера')
        received = [tab.next_message() for tab in anna_tabs]
        notify(second.url, 'anna', 'Вторая серия')
        following = [tab.next_message() for tab in anna_tabs]
        notify(first.url, 'boris', 'Для Бориса')
        boris_first = boris_tab.next_message()

    assert [message['title'] for message in received] == ['Премьера', 'Премьера']
    assert {message['notification_id'] for message in received} == {notification_id}
    assert received[0]['id'] == received[1]['id']  # one inbox item, pushed to both processes
    assert received[0]['body'] == 'Текст: Премьера'
    assert received[0]['read_at'] is None
    # Each tab's next message is the next notification: the first came once, and Anna's never reached Boris.
    assert [message['title'] for message in following] == ['Вторая серия', 'Вторая серия']
    assert boris_first['title'] == 'Для Бориса'


def test_two_tabs_of_a_user_on_one_process_both_receive(inbox_app: Flask, api_processes: StartApi) -> None:
    api = api_processes()
    tabs = [_connected(api, 'vera'), _connected(api, 'vera')]

    with running_consumers(inbox_app):
        notify(api.url, 'vera', 'Обе вкладки')
        received = [tab.next_message() for tab in tabs]

    assert [message['title'] for message in received] == ['Обе вкладки', 'Обе вкладки']
    assert received[0]['id'] == received[1]['id']


def test_an_offline_user_finds_it_in_the_inbox_and_gets_it_on_connect(
    inbox_app: Flask, api_processes: StartApi,
) -> None:
    api = api_processes()

    with running_consumers(inbox_app):
        notification_id = notify(api.url, 'anna', 'Пока вас не было')
        wait_for(lambda: sent_delivery(inbox_app, notification_id), what='the websocket delivery to be sent')

    inbox = call_api(api.url, 'GET', '/api/v1/users/anna/inbox')
    assert inbox['unread'] == 1
    assert [entry['title'] for entry in inbox['items']] == ['Пока вас не было']
    hello, backlog = Tab(api.ws, token_for('anna')).hello_and_backlog()
    assert hello == {'type': 'hello', 'user_id': 'anna', 'unread': 1}
    assert [message['id'] for message in backlog] == [inbox['items'][0]['id']]


def test_read_items_are_not_replayed_on_reconnect(inbox_app: Flask, api_processes: StartApi) -> None:
    api = api_processes()
    with running_consumers(inbox_app):
        for title in ('Первое', 'Второе', 'Третье'):
            notify(api.url, 'boris', title)
        wait_for(lambda: call_api(api.url, 'GET', '/api/v1/users/boris/inbox')['unread'] == 3, what='3 items')
        oldest = call_api(api.url, 'GET', '/api/v1/users/boris/inbox')['items'][-1]

        call_api(api.url, 'POST', '/api/v1/users/boris/inbox/{0}/read'.format(oldest['id']))
        hello, backlog = Tab(api.ws, token_for('boris')).hello_and_backlog()
        call_api(api.url, 'POST', '/api/v1/users/boris/inbox/read-all')
        tab = Tab(api.ws, token_for('boris'))
        hello_after_all_read, _ = tab.hello_and_backlog()
        notify(api.url, 'boris', 'Новое')
        live = tab.next_message()

    assert hello['unread'] == 2
    assert [message['title'] for message in backlog] == ['Второе', 'Третье']  # oldest first, the read one left out
    assert hello_after_all_read['unread'] == 0
    assert live['title'] == 'Новое'


def test_a_resent_delivery_files_one_item_and_reaches_a_tab_once(inbox_app: Flask, api_processes: StartApi) -> None:
    api = api_processes()
    tab = _connected(api, 'vera')
    with running_consumers(inbox_app):
        notification_id = notify(api.url, 'vera', 'Один раз')
        first = tab.next_message()
        delivery = wait_for(lambda: sent_delivery(inbox_app, notification_id), what='the delivery to be sent')
        # The sender's crash window: the channel is asked again for a delivery it already sent.
        with inbox_app.app_context():
            channel = WebSocketChannel.from_environment({})
            outcome = channel.send(OutgoingMessage(
                delivery_id=delivery.id,
                notification_id=notification_id,
                recipient='vera',
                subject='Один раз',
                html='<p>Текст: Один раз</p>',
                text='Текст: Один раз',
            ))
            channel.close()
        notify(api.url, 'vera', 'Следующее')
        following = tab.next_message()

    assert outcome.status == 'sent'
    assert outcome.provider_message_id == first['id']
    assert len(deliveries_of(inbox_app, notification_id)) == 1
    assert call_api(api.url, 'GET', '/api/v1/users/vera/inbox')['unread'] == 2
    assert following['title'] == 'Следующее'


def test_a_bad_or_expired_token_is_refused_before_the_upgrade(inbox_app: Flask, api_processes: StartApi) -> None:
    api = api_processes()
    now = int(time.time())

    assert handshake_status(api.ws, token_for('anna')) == 101
    assert handshake_status(api.ws, None) == 401
    assert handshake_status(api.ws, issue_token('another secret', 'anna', now + 300)) == 401
    assert handshake_status(api.ws, issue_token(SECRET, 'anna', now - 1)) == 401
    assert handshake_status(api.ws, issue_token(SECRET, 'anna', now + 10 ** 7)) == 401
    assert handshake_status(api.ws, token_for('anna')[:-2]) == 401
    assert handshake_status(api.ws, 'x' * 100000) in {400, 401, 414, 431}


def test_a_refusal_is_a_json_error_and_what_is_not_a_handshake_is_a_400(
    inbox_app: Flask, api_processes: StartApi,
) -> None:
    api = api_processes()

    refused = plain_get(api.ws, '/ws?token=forged', handshake=True)
    not_a_handshake = plain_get(api.ws, '/ws?token={0}'.format(token_for('anna')), handshake=False)
    elsewhere = plain_get(api.ws, '/api/v1/events', handshake=True)

    assert refused.status == 401
    assert refused.json == {'error': {'code': 'unauthorized', 'message': 'websocket token refused: malformed token'}}
    assert (not_a_handshake.status, not_a_handshake.json['error']['code']) == (400, 'bad_request')
    assert (elsewhere.status, elsewhere.json['error']['code']) == (404, 'not_found')


def test_a_client_message_over_4_kib_closes_its_socket_and_small_ones_are_ignored(
    inbox_app: Flask, api_processes: StartApi,
) -> None:
    api = api_processes()
    with connect(socket_url(api.ws, token_for('anna')), open_timeout=RECEIVE_TIMEOUT) as client:
        hello = json.loads(client.recv(timeout=RECEIVE_TIMEOUT))
        client.send('ignored')
        client.send('x' * 5000)
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=RECEIVE_TIMEOUT)

    assert hello == {'type': 'hello', 'user_id': 'anna', 'unread': 0}
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009  # message too big


def test_a_socket_port_taken_by_another_program_fails_the_start_in_both_servers(
    inbox_app: Flask, api_process_runner: ApiProcesses,
) -> None:
    with socket.socket() as squatter:
        squatter.bind(('127.0.0.1', 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        development = api_process_runner.failed_start(taken)
        gunicorn = api_process_runner.failed_start(taken, workers=2)

    assert development[0] != 0
    assert 'cannot serve /ws on 127.0.0.1:{0}'.format(taken) in development[1]
    assert gunicorn[0] != 0
    assert 'cannot serve /ws on 127.0.0.1:{0}'.format(taken) in gunicorn[1]
