"""``/ws``: a logged-in user's browser receives their websocket notifications live.

The browser opens ``/ws?token=<token>`` with a token the cinema's site signed
for the user (``notifier/inbox/tokens.py``, docs/websocket.md); a missing,
forged or expired token is refused with a 401 before the upgrade. On connect
the socket gets a ``hello`` (with the unread count) and then the unread items,
oldest first; after that every new item of the user, pushed through this
process's live subscription. Each item is sent to a socket once; read items
are never sent again on reconnect (only unread ones are).
"""

import json
import queue
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import flask
from flask.blueprints import BlueprintSetupState
from flask_sock import Sock  # type: ignore[import-untyped]

from notifier.api.errors import ApiError
from notifier.api.socket_hub import SentOnce, SocketQueue, socket_hub
from notifier.extensions import db
from notifier.inbox.pushes import hello_message, socket_message
from notifier.inbox.store import unread_backlog, unread_count
from notifier.inbox.tokens import BadTokenError, verify_token
from notifier.settings import settings_of

#: How long a first connection waits for the process's subscription before it reads the backlog.
READY_TIMEOUT_SECONDS: Final = 10.0
#: How often a socket's thread looks up from its queue (to notice a closed socket).
POLL_SECONDS: Final = 1.0
#: Pings keep proxies from closing an idle socket and find clients that vanished.
PING_INTERVAL_SECONDS: Final = 25
#: Clients send nothing the server needs; a big message is a misbehaving client.
MAX_CLIENT_MESSAGE_BYTES: Final = 4096

websocket_blueprint = flask.Blueprint('websocket', __name__)
sock = Sock()


@websocket_blueprint.record_once
def _socket_options(state: BlueprintSetupState) -> None:
    state.app.config.setdefault('SOCK_SERVER_OPTIONS', {
        'ping_interval': PING_INTERVAL_SECONDS, 'max_message_size': MAX_CLIENT_MESSAGE_BYTES,
    })


@websocket_blueprint.before_request
def _authenticate() -> None:
    """Refuse the upgrade (401) unless the token is valid; remember whose socket it is."""
    token = flask.request.args.get('token', '')
    try:
        flask.g.websocket_user_id = verify_token(settings_of().websocket_secret, token, time.time())
    except BadTokenError as error:
        raise ApiError(HTTPStatus.UNAUTHORIZED, 'unauthorized', 'websocket token refused: {0}'.format(error))


def serve_socket(ws: Any) -> None:
    """Serve one socket until the client leaves."""
    user_id: str = flask.g.websocket_user_id
    hub = socket_hub(flask.current_app._get_current_object())  # type: ignore[attr-defined]  # noqa: WPS437
    hub.ready.wait(READY_TIMEOUT_SECONDS)
    # Attach before reading the backlog: an item filed in between arrives as a push (sent once).
    with hub.attached(user_id) as socket_queue:
        _converse(ws, user_id, socket_queue)


def _converse(ws: Any, user_id: str, socket_queue: SocketQueue) -> None:
    sent = SentOnce()
    session = db.session()
    backlog = [socket_message(unread_item) for unread_item in unread_backlog(session, user_id)]
    unread = unread_count(session, user_id)
    db.session.remove()  # hold no database connection for the life of the socket
    _send(ws, hello_message(user_id, unread))
    for backlog_message in backlog:
        _send_once(ws, sent, backlog_message)
    while ws.connected:
        _drop_incoming(ws)
        try:
            pushed = socket_queue.get(timeout=POLL_SECONDS)
        except queue.Empty:
            continue
        _send_once(ws, sent, pushed)


def _drop_incoming(ws: Any) -> None:
    """Nothing a client says changes anything: drop what it sent."""
    received = ws.receive(timeout=0)
    while received is not None:
        received = ws.receive(timeout=0)


def _send_once(ws: Any, sent: SentOnce, message: Mapping[str, Any]) -> None:
    if sent.first_time(str(message['id'])):
        _send(ws, message)


def _send(ws: Any, message: Mapping[str, Any]) -> None:
    ws.send(json.dumps(message, ensure_ascii=False, separators=(',', ':')))


sock.route('/ws', bp=websocket_blueprint)(serve_socket)
