"""Who may open ``/ws``: a WebSocket handshake to ``/ws`` with a valid token, nothing else.

The answer comes before the upgrade, as an HTTP response with the API's
JSON error body: a missing, malformed, forged or expired token is a 401, a
request that is not a WebSocket handshake a 400, any other path a 404.
"""

import json
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Final
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from notifier.inbox.tokens import BadTokenError, verify_token

WS_PATH: Final = '/ws'


def refusal(status: HTTPStatus, code: str, message: str) -> Response:
    """An HTTP answer instead of the upgrade, with the API's JSON error body; the connection closes after it."""
    body = json.dumps({'error': {'code': code, 'message': message}}, ensure_ascii=False).encode()
    headers = Headers([
        ('Date', formatdate(usegmt=True)),
        ('Connection', 'close'),
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(body))),
    ])
    return Response(status.value, status.phrase, headers, body)


def _is_handshake(request: Request) -> bool:
    upgrades = ','.join(request.headers.get_all('Upgrade')).lower()
    return 'websocket' in upgrades


def admit(secret: str, connection: ServerConnection, request: Request) -> Response | None:
    """``None`` (go on with the upgrade) for a valid token, whose user becomes ``connection.username``."""
    url = urlsplit(request.path)
    if url.path != WS_PATH:
        return refusal(HTTPStatus.NOT_FOUND, 'not_found', 'only {0} is served here'.format(WS_PATH))
    if not _is_handshake(request):
        return refusal(HTTPStatus.BAD_REQUEST, 'bad_request', 'not a WebSocket handshake')
    token = parse_qs(url.query).get('token', [''])[0]
    try:
        connection.username = verify_token(secret, token, time.time())
    except BadTokenError as error:
        message = 'websocket token refused: {0}'.format(error)
        return refusal(HTTPStatus.UNAUTHORIZED, 'unauthorized', message)
    return None
