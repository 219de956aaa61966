"""What travels to the sockets: one inbox item per message, through the fan-out exchange.

The fan-out message names the user and carries the item exactly as the socket
gets it (``{"type": "notification", ...the inbox item...}``), so an API
process forwards it without a database read.
"""

from collections.abc import Mapping
from typing import Any, Final

from notifier.models.inbox import InboxItem
from notifier.schemas.inbox import InboxItemSchema

NOTIFICATION: Final = 'notification'
HELLO: Final = 'hello'


def socket_message(inbox_item: InboxItem) -> dict[str, Any]:
    """The socket's message for one inbox item."""
    dumped: dict[str, Any] = InboxItemSchema().dump(inbox_item)
    return {'type': NOTIFICATION, **dumped}


def fanout_message(inbox_item: InboxItem) -> dict[str, Any]:
    """The message every API process gets: whose it is, and what their sockets are sent."""
    return {'user_id': inbox_item.user_id, 'message': socket_message(inbox_item)}


def hello_message(user_id: str, unread: int) -> dict[str, Any]:
    """The first message of a connection: who it is for and how many items are unread."""
    return {'type': HELLO, 'user_id': user_id, 'unread': unread}


#: A fan-out message read back: the user, and the message for their sockets.
Push = tuple[str, Mapping[str, Any]]


def parse_fanout(body: Mapping[str, Any]) -> Push | None:
    """The user and socket message of a fan-out message; ``None`` when it is not one of ours."""
    user_id = body.get('user_id')
    message = body.get('message')
    if not isinstance(message, Mapping) or not isinstance(message.get('id'), str):
        return None
    return (user_id, message) if isinstance(user_id, str) else None
