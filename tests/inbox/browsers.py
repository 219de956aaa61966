"""A browser tab as the tests see it: a WebSocket client that reads JSON messages, and HTTP calls."""

import json
from contextlib import ExitStack
from dataclasses import dataclass
from http import HTTPStatus
from http.client import HTTPConnection
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

import pytest
from websockets.sync.client import connect

from tests.plugins.app import AUTH

#: Long enough for a notification to cross the pipeline on a slow machine; not a performance bound.
RECEIVE_TIMEOUT = 30


def socket_url(socket_base: str, token: str) -> str:
    """``ws://host:port/ws?token=…`` on an API process's ``/ws`` listener."""
    return '{0}/ws?token={1}'.format(socket_base, quote(token, safe=''))


class Tab:
    """One open ``/ws`` connection of a user."""

    def __init__(self, socket_base: str, token: str) -> None:
        self._stack = ExitStack()  # closed by close(), or with the test's API process
        self._client = self._stack.enter_context(connect(socket_url(socket_base, token), open_timeout=RECEIVE_TIMEOUT))

    def next_message(self) -> dict[str, Any]:
        """The next message the server sent (fails the test when none comes)."""
        try:
            received = self._client.recv(timeout=RECEIVE_TIMEOUT)
        except TimeoutError:
            pytest.fail('no websocket message within {0}s'.format(RECEIVE_TIMEOUT))
        decoded: dict[str, Any] = json.loads(received)
        return decoded

    def hello_and_backlog(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The hello and the unread items sent on connect."""
        hello = self.next_message()
        assert hello['type'] == 'hello'
        return hello, [self.next_message() for _ in range(hello['unread'])]

    def close(self) -> None:
        """Close the tab."""
        self._stack.close()


HANDSHAKE = MappingProxyType({
    'Connection': 'Upgrade',
    'Upgrade': 'websocket',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
})


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the ``/ws`` listener: its status and its body (JSON decoded; ``None`` for a 101)."""

    status: int
    json: Any


def plain_get(socket_base: str, path: str, handshake: bool) -> Answer:
    """A GET to the ``/ws`` listener, with a browser's handshake headers or without."""
    parsed = urlsplit(socket_base)
    connection = HTTPConnection(parsed.hostname or '127.0.0.1', parsed.port, timeout=RECEIVE_TIMEOUT)
    connection.request('GET', path, headers=dict(HANDSHAKE) if handshake else {})
    response = connection.getresponse()
    body = None if response.status == HTTPStatus.SWITCHING_PROTOCOLS else response.read().decode()
    connection.close()
    is_json = response.getheader('Content-Type') == 'application/json'
    return Answer(response.status, json.loads(body) if body and is_json else body)


def handshake_status(socket_base: str, token: str | None) -> int:
    """The HTTP status a browser's WebSocket handshake gets (101 when it is accepted)."""
    path = '/ws' if token is None else '/ws?token={0}'.format(quote(token, safe=''))
    return plain_get(socket_base, path, handshake=True).status


def call_api(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """Call the API of a running process as a service does (bearer token), answer the JSON."""
    encoded = None if body is None else json.dumps(body).encode()
    request = Request(
        '{0}{1}'.format(base_url, path),
        data=encoded,
        method=method,
        headers={**AUTH, 'Content-Type': 'application/json'},
    )
    with urlopen(request, timeout=RECEIVE_TIMEOUT) as answer:  # noqa: S310 - our own server
        return json.loads(answer.read())


def notify(base_url: str, user_id: str, title: str) -> str:
    """An ``info`` notification to the user's websocket channel; its id."""
    accepted = call_api(base_url, 'POST', '/api/v1/events', {
        'meta': {'urgency': 'immediate', 'scale': 'individual', 'user_id': user_id},
        'type': 'info',
        'channels': ['websocket'],
        'fields': {'title': title, 'text': 'Текст: {0}'.format(title)},
    })
    return str(accepted['id'])
