"""The contract of ``/api/v1/users/<id>/inbox`` (``/ws`` is served by its own listener: docs/websocket.md)."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from notifier.api.contract import GET, OK, Operation, json_answer, operation, parameter, secured
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
INBOX_OPERATIONS: Mapping[str, Mapping[str, Operation]] = MappingProxyType({
    'inbox.get_inbox': MappingProxyType({GET: GET_INBOX}),
    'inbox.read_item': MappingProxyType({'post': READ_ITEM}),
    'inbox.read_all': MappingProxyType({'post': READ_ALL}),
})
