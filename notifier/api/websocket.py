"""``/ws``: a logged-in user's browser receives their websocket notifications live.

The browser opens ``/ws?token=<token>`` with a token the cinema's site signed
for the user (``notifier/inbox/tokens.py``, docs/websocket.md); a missing,
forged or expired token is refused with a 401 before the upgrade. On connect
the socket gets a ``hello`` (with the unread count) and then the unread items,
oldest first; after that every new item of the user, pushed through this
process's live subscription. Each item is sent to a socket once; read items
are never sent again on reconnect (only unread ones are).

Served on an asyncio event loop by the ``websockets`` library (the listener of
``notifier/api/socket_listener.py``), not by Flask: an open socket costs a
few kilobytes, not a thread (docs/decisions/0021-websockets-on-an-event-loop.md).
"""

import asyncio
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any, Final

from flask import Flask
from sqlalchemy.orm import Session
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from notifier.api.socket_handshake import admit
from notifier.api.socket_hub import LiveSocket, SocketHub
from notifier.extensions import db
from notifier.inbox.pushes import hello_message, socket_message
from notifier.inbox.store import BACKLOG_LIMIT, unread_backlog, unread_count
from notifier.settings import settings_of

#: Pings keep proxies from closing an idle socket and find clients that vanished.
PING_INTERVAL_SECONDS: Final = 25
#: Clients send nothing the server needs; a big message is a misbehaving client (closed with 1009).
MAX_CLIENT_MESSAGE_BYTES: Final = 4096
#: The unread items and the count sent on connect.
Unread = tuple[list[dict[str, Any]], int]


def read_unread(app: Flask, user_id: str) -> Unread:
    """The unread backlog (socket messages, oldest first) and the unread count; on a worker thread."""
    with app.app_context(), Session(db.engine) as session:  # no database connection held by the socket
        backlog = [socket_message(unread_item) for unread_item in unread_backlog(session, user_id)]
        # A backlog shorter than its limit is every unread item: no second query.
        unread = len(backlog) if len(backlog) < BACKLOG_LIMIT else unread_count(session, user_id)
    return backlog, unread


class SocketService:
    """Admits handshakes with a valid token and serves each admitted socket until it closes."""

    def __init__(self, app: Flask, hub: SocketHub, database: Executor) -> None:
        """``database`` runs the backlog reads (blocking SQLAlchemy calls) off the event loop."""
        self._app = app
        self._secret = settings_of(app).websocket_secret
        self._hub = hub
        self._database = database

    def admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse what is not a handshake to ``/ws`` with a valid token; remember whose socket it is."""
        return admit(self._secret, connection, request)

    async def serve(self, connection: ServerConnection) -> None:
        """Serve one socket until the client leaves."""
        user_id = connection.username
        socket = LiveSocket(connection)
        # Attach before reading the backlog: an item filed in between arrives as a push (sent once).
        self._hub.attach(user_id, socket)
        try:
            await self._converse(connection, socket, user_id)
        except ConnectionClosed:
            return
        finally:
            self._hub.detach(user_id, socket)

    async def _converse(self, connection: ServerConnection, socket: LiveSocket, user_id: str) -> None:
        loop = asyncio.get_running_loop()
        backlog, unread = await loop.run_in_executor(self._database, read_unread, self._app, user_id)
        await socket.open_with(hello_message(user_id, unread), backlog)
        # Nothing a client says changes anything: drop what it sends until it closes.
        async for _ in connection:  # noqa: WPS328 - the loop only drains the connection
            pass  # noqa: WPS420


def socket_options() -> Mapping[str, Any]:
    """websockets' options for ``/ws``: small limits and no compression keep each socket a few kilobytes."""
    return {
        'compression': None,  # the messages are small; deflate would cost ~100 KB of zlib state per socket
        'max_size': MAX_CLIENT_MESSAGE_BYTES,
        'max_queue': 4,
        'ping_interval': PING_INTERVAL_SECONDS,
        'server_header': 'notifier',
    }
