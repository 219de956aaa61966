"""The contract of ``/api/v1/users/<id>/inbox`` and of the ``/ws`` handshake."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, json_answer, operation, parameter, secured
from notifier.inbox.tokens import MAX_TOKEN_LENGTH
from notifier.schemas.inbox import InboxItemSchema, InboxPageSchema, InboxQuerySchema, ReadAllSchema

TAG: Final = 'inbox'
TEXT: Final = MappingProxyType({'type': 'string'})
INVALID: Final = 'ValidationFailed'
USER_ID: Final = parameter('path', 'user_id', {**TEXT, 'maxLength': 64}, required=True)
ITEM_ID: Final = parameter('path', 'item_id', dict(TEXT), required=True)

GET_INBOX: Final = secured(operation(
    'getInbox',
    "A user's inbox (their websocket notifications), newest first, a page at a time, with the unread count",
    {OK: json_answer(InboxPageSchema, 'A page of the inbox.'), '400': 'BadRequest', '422': INVALID},
    TAG,
    description='Follow `next` (as `?before=`) until it is null to read every page.',
    parameters=[USER_ID, {'in': 'query', 'schema': InboxQuerySchema}],
))
READ_ITEM: Final = secured(operation(
    'readInboxItem',
    'Mark one inbox item read (again is harmless: it keeps the time it was first read)',
    {OK: json_answer(InboxItemSchema, 'The item, read.'), '404': 'NotFound', '422': INVALID},
    TAG,
    parameters=[USER_ID, ITEM_ID],
))
READ_ALL: Final = secured(operation(
    'readWholeInbox',
    "Mark every unread item of the user's inbox read",
    {OK: json_answer(ReadAllSchema, 'How many items were marked.'), '422': INVALID},
    TAG,
    parameters=[USER_ID],
))
WEBSOCKET: Final = operation(
    'openWebSocket',
    "A user's live notifications over a WebSocket (RFC 6455); see docs/websocket.md",
    {
        '101': {'description': 'Switched to the WebSocket protocol: a `hello`, the unread items, then new ones.'},
        '400': 'BadRequest',
        '401': 'Unauthorized',
    },
    'websocket',
    description=(
        'Not a JSON endpoint: a WebSocket handshake. The token is signed by the cinema site with '
        'NOTIFIER_WEBSOCKET_SECRET; a missing, forged or expired one is refused with 401 before the upgrade. '
        'A request that is not a WebSocket handshake is a 400.'
    ),
    parameters=[parameter(
        'query',
        'token',
        {**TEXT, 'maxLength': MAX_TOKEN_LENGTH},
        required=True,
        description='base64url(user id).expiry.base64url(HMAC-SHA256)',
    )],
)

INBOX_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'inbox.get_inbox': MappingProxyType({GET: GET_INBOX}),
    'inbox.read_item': MappingProxyType({'post': READ_ITEM}),
    'inbox.read_all': MappingProxyType({'post': READ_ALL}),
    'websocket.serve_socket': MappingProxyType({GET: WEBSOCKET}),
})
