"""The sockets connected to this API process, by user, fed by the process's live subscription.

Everything here runs on the event loop of the ``/ws`` listener
(``notifier/api/socket_listener.py``), except :meth:`SocketHub.deliver`, which
the subscription's thread calls: it only hands the push over to the loop. A
socket costs no thread and no task while it waits; a push starts one short
task per socket that sends what is pending and ends.
"""

import asyncio
import collections
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

from notifier.inbox.pushes import parse_fanout
from notifier.observability.metrics import websockets_open

#: Pushes waiting for one slow socket; past this the oldest are dropped (the inbox has them).
SOCKET_QUEUE_SIZE: Final = 1000
#: How many item ids a socket remembers to send each item once (pushes and the backlog overlap).
REMEMBERED_IDS: Final = 1000
logger = logging.getLogger(__name__)


class Connection(Protocol):
    """What a live socket needs of a WebSocket connection (websockets' ``ServerConnection``)."""

    async def send(self, message: str) -> None:
        """Send one text frame (raises once the connection is closed)."""


class SentOnce:
    """The ids a socket was sent (the most recent ones): an item goes to a socket once."""

    def __init__(self, remembered: int = REMEMBERED_IDS) -> None:
        """Remember at most ``remembered`` ids."""
        self._order: collections.deque[str] = collections.deque(maxlen=remembered)
        self._ids: set[str] = set()

    def first_time(self, item_id: str) -> bool:
        """True the first time an id is seen (and remember it)."""
        if item_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(item_id)
        self._ids.add(item_id)
        return True


def encoded(message: Mapping[str, Any]) -> str:
    """A message as its JSON text frame."""
    return json.dumps(message, ensure_ascii=False, separators=(',', ':'))


class LiveSocket:
    """One open socket: its pushes wait here until the hello and the backlog went out, then go in order."""

    def __init__(self, connection: Connection) -> None:
        """Nothing is sent before :meth:`open_with`."""
        self._connection = connection
        self._pending: collections.deque[Mapping[str, Any]] = collections.deque(maxlen=SOCKET_QUEUE_SIZE)
        self._sent = SentOnce()
        self._open = False
        self._writer: asyncio.Task[None] | None = None

    async def open_with(self, hello: Mapping[str, Any], backlog: Iterable[Mapping[str, Any]]) -> None:
        """Send the hello and the backlog, then whatever was pushed meanwhile, and every push from now on."""
        await self._connection.send(encoded(hello))
        opening = collections.deque(backlog)
        while opening:  # in order: one frame after the other
            await self._send_once(opening.popleft())
        self._open = True
        self._start_writer()

    def push(self, message: Mapping[str, Any]) -> None:
        """Queue a push (dropping the oldest past :data:`SOCKET_QUEUE_SIZE`); sent once the socket is open."""
        self._pending.append(message)
        self._start_writer()

    def _start_writer(self) -> None:
        if self._open and self._writer is None and self._pending:
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    async def _write_pending(self) -> None:
        try:
            while self._pending:
                await self._send_once(self._pending.popleft())
        except Exception:  # noqa: B902 - a closed connection (or any failure) ends this socket's pushes only
            self._pending.clear()
            self._open = False
        finally:
            self._writer = None

    async def _send_once(self, message: Mapping[str, Any]) -> None:
        if self._sent.first_time(str(message['id'])):
            await self._connection.send(encoded(message))


class SocketHub:
    """The open sockets of this process, by user; lives on the listener's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Pushes are handed to ``loop``."""
        self._loop = loop
        self._sockets: dict[str, set[LiveSocket]] = collections.defaultdict(set)

    @property
    def open_sockets(self) -> int:
        """How many sockets are attached (on the loop)."""
        return sum(len(sockets) for sockets in self._sockets.values())

    def attach(self, user_id: str, socket: LiveSocket) -> None:
        """From now on the user's pushes reach ``socket`` (on the loop)."""
        self._sockets[user_id].add(socket)
        websockets_open.inc()

    def detach(self, user_id: str, socket: LiveSocket) -> None:
        """The socket closed (on the loop)."""
        sockets = self._sockets.get(user_id)
        if sockets is not None and socket in sockets:
            sockets.discard(socket)
            websockets_open.dec()
            if not sockets:
                self._sockets.pop(user_id)

    def deliver(self, body: Mapping[str, Any]) -> None:
        """Hand a push over to the loop (called on the subscription's thread)."""
        parsed = parse_fanout(body)
        if parsed is None:
            return
        try:
            self._loop.call_soon_threadsafe(self._forward, *parsed)
        except RuntimeError:  # the loop closed: the listener is stopping
            logger.debug('live push after the listener stopped')

    def _forward(self, user_id: str, message: Mapping[str, Any]) -> None:
        for socket in self._sockets.get(user_id, ()):
            socket.push(message)
