"""Hundreds of sockets open at once on gunicorn (two workers share the ``/ws`` port): each gets its user's items."""

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.request import urlopen

import pytest
from flask import Flask
from websockets.asyncio.client import ClientConnection, connect

from notifier.extensions import db
from notifier.models.user import User
from tests.inbox.browsers import RECEIVE_TIMEOUT, handshake_status, notify, socket_url
from tests.inbox.conftest import Api, token_for
from tests.plugins.app import running_consumers

VIEWERS = ['viewer{0:02d}'.format(number) for number in range(40)]
TABS_PER_VIEWER = 8  # 320 sockets
NOTIFICATIONS_PER_VIEWER = 2
#: Handshakes in flight at once (the client's side; the server takes them as they come).
OPENING_AT_ONCE = 40

Tabs = list[tuple[str, ClientConnection]]
#: The hellos, each tab's user and messages, and ``notifier_websockets_open`` with every tab open.
Seen = tuple[list[dict[str, Any]], list[tuple[str, list[Any]]], float]


@pytest.fixture
def viewers(inbox_app: Flask) -> list[str]:
    """Forty more users of the directory."""
    with inbox_app.app_context():
        for user_id in VIEWERS:
            db.session.add(User(id=user_id, email='{0}@example.com'.format(user_id), name=user_id.title()))
        db.session.commit()
    return VIEWERS


async def _message(connection: ClientConnection) -> dict[str, Any]:
    received = await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT)
    decoded: dict[str, Any] = json.loads(received)
    return decoded


async def _messages(connection: ClientConnection, count: int) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while len(received) < count:
        received.append(await _message(connection))
    return received


async def _open_tab(api: Api, user_id: str, opening: asyncio.Semaphore) -> tuple[str, ClientConnection, dict[str, Any]]:
    async with opening:
        connection = await connect(socket_url(api.ws, token_for(user_id)), open_timeout=RECEIVE_TIMEOUT)
        return user_id, connection, await _message(connection)


async def _open_tabs(api: Api, users: list[str]) -> tuple[Tabs, list[dict[str, Any]]]:
    """A socket per tab, all open at once; the hello each of them got."""
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    tabs = [user_id for user_id in users for _ in range(TABS_PER_VIEWER)]
    opened = await asyncio.gather(*(_open_tab(api, user_id, opening) for user_id in tabs))
    return [(user_id, connection) for user_id, connection, _ in opened], [hello for _, _, hello in opened]


def _notify_each(api: Api, users: list[str]) -> None:
    """Through the API and the whole pipeline: each user's items, one round after the other."""
    for round_number in range(NOTIFICATIONS_PER_VIEWER):
        for user_id in users:
            notify(api.url, user_id, '{0} #{1}'.format(user_id, round_number))


def _open_sockets_metric(api: Api) -> float:
    """``notifier_websockets_open`` as the instance's ``/metrics`` sums it over its workers."""
    with urlopen('{0}/metrics'.format(api.url), timeout=RECEIVE_TIMEOUT) as answer:  # noqa: S310 - our server
        exposed = answer.read().decode()
    samples = [line.split()[-1] for line in exposed.splitlines() if line.startswith('notifier_websockets_open ')]
    return float(samples[0]) if samples else -1.0


async def _deliveries(api: Api, users: list[str]) -> Seen:
    tabs, hellos = await _open_tabs(api, users)
    open_sockets = await asyncio.to_thread(_open_sockets_metric, api)
    try:
        await asyncio.to_thread(_notify_each, api, users)
        received = await asyncio.gather(*(_messages(connection, NOTIFICATIONS_PER_VIEWER) for _, connection in tabs))
    finally:
        await asyncio.gather(*(connection.close() for _, connection in tabs))
    by_tab = [(user_id, messages) for (user_id, _), messages in zip(tabs, received, strict=True)]
    return hellos, by_tab, open_sockets


def test_320_open_sockets_on_two_gunicorn_workers_each_get_their_users_notifications_once(
    inbox_app: Flask, api_processes: Callable[..., Api], viewers: list[str],
) -> None:
    api = api_processes(workers=2)

    with running_consumers(inbox_app):
        hellos, received, open_sockets = asyncio.run(_deliveries(api, viewers))

    assert len(received) == len(viewers) * TABS_PER_VIEWER
    assert open_sockets == len(viewers) * TABS_PER_VIEWER  # both workers' sockets, summed
    assert {hello['unread'] for hello in hellos} == {0}
    expected = ['{0} #{1}'.format(user_id, number) for user_id in viewers for number in range(2)]
    got = sorted({message['title'] for _, messages in received for message in messages})
    assert got == sorted(expected)
    for user_id, messages in received:
        # Each tab got its own user's two items (in the order sent), not another user's, and each once.
        assert [message['title'] for message in messages] == ['{0} #0'.format(user_id), '{0} #1'.format(user_id)]
    item_ids = {user_id: set() for user_id in viewers}
    for user_id, messages in received:
        item_ids[user_id].update(message['id'] for message in messages)
    assert {len(ids) for ids in item_ids.values()} == {2}  # every tab of a user got the same two items
    assert handshake_status(api.ws, token_for('anna')[:-2]) == 401
