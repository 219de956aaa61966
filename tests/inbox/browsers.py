"""A browser tab as the tests see it: a WebSocket client that reads JSON messages, and HTTP calls."""

import json
from http.client import HTTPConnection
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import Request, urlopen

import pytest
from simple_websocket import Client  # type: ignore[import-untyped]

from tests.plugins.app import AUTH

#: Long enough for a notification to cross the pipeline on a slow machine; not a performance bound.
RECEIVE_TIMEOUT = 30


class Tab:
    """One open ``/ws`` connection of a user."""

    def __init__(self, base_url: str, token: str) -> None:
        ws_url = '{0}/ws?token={1}'.format(base_url.replace('http://', 'ws://', 1), quote(token, safe=''))
        self._client = Client.connect(ws_url)

    def next_message(self) -> dict[str, Any]:
        """The next message the server sent (fails the test when none comes)."""
        received = self._client.receive(timeout=RECEIVE_TIMEOUT)
        if received is None:
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
        self._client.close()


def handshake_status(base_url: str, token: str | None) -> int:
    """The HTTP status a browser's WebSocket handshake gets (101 when it is accepted)."""
    parsed = urlsplit(base_url)
    connection = HTTPConnection(parsed.hostname or '127.0.0.1', parsed.port, timeout=RECEIVE_TIMEOUT)
    path = '/ws' if token is None else '/ws?token={0}'.format(quote(token, safe=''))
    connection.request('GET', path, headers={
        'Connection': 'Upgrade',
        'Upgrade': 'websocket',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
    })
    status = connection.getresponse().status
    connection.close()
    return status


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
