"""Keyset pagination of notifications on ``(created_at, id)``, newest first.

A cursor is the position of the last row of a page, encoded so clients treat
it as opaque: ``base64url("<created_at ISO 8601>|<id>")``. Keyset pages stay
right while rows are inserted (no skipped or repeated rows, unlike offsets)
and cost the same at any depth.
"""

import base64
import datetime as dt
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final

from sqlalchemy import Select, and_, or_

from notifier.api.errors import ApiError
from notifier.models import Notification

SEPARATOR: Final = '|'
MAX_ID_LENGTH: Final = 36


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the created_at and id of its last notification."""

    created_at: dt.datetime
    notification_id: str

    def encode(self) -> str:
        """The opaque text a client sends back as ``?before=``."""
        position = '{0}{1}{2}'.format(self.created_at.isoformat(), SEPARATOR, self.notification_id)
        return base64.urlsafe_b64encode(position.encode()).decode().rstrip('=')


def cursor_after(notification: Notification) -> Cursor:
    """The cursor of the page that ends with this notification."""
    return Cursor(notification.created_at, notification.id)


def decode_cursor(text: str) -> Cursor:
    """Read a ``?before=`` cursor; a cursor this API did not make is a 400."""
    try:
        return _decoded(text)
    except (ValueError, OverflowError):  # binascii.Error and UnicodeError are ValueErrors
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_cursor', 'before must be the next cursor of a previous page')


def older_than(query: Select[Any], cursor: Cursor) -> Select[Any]:
    """Only the notifications after the cursor in newest-first order."""
    return query.where(or_(
        Notification.created_at < cursor.created_at,
        and_(Notification.created_at == cursor.created_at, Notification.id < cursor.notification_id),
    ))


def _decoded(text: str) -> Cursor:
    padded = text + '=' * (-len(text) % 4)
    position = base64.urlsafe_b64decode(padded.encode('ascii')).decode()
    moment_text, _, notification_id = position.partition(SEPARATOR)
    moment = dt.datetime.fromisoformat(moment_text)
    if moment.tzinfo is None or not 0 < len(notification_id) <= MAX_ID_LENGTH or '\x00' in notification_id:
        raise ValueError('not a cursor of this API')
    return Cursor(moment.astimezone(dt.timezone.utc), notification_id)
