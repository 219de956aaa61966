"""Filing, reading and marking the items of a user's inbox.

Filing is idempotent by delivery: a re-sent delivery finds its item instead
of filing a second one. Pages are keyset pages on ``(created_at, id)``,
newest first, like the notifications list.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models.base import utcnow
from notifier.models.inbox import InboxItem

#: At most this many unread items are sent to a socket when it connects (the rest: the inbox API).
BACKLOG_LIMIT: Final = 100


@dataclass(frozen=True)
class NewItem:
    """What the websocket channel files for one delivery."""

    user_id: str
    notification_id: str
    delivery_id: str
    title: str
    body: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Position:
    """Where a page ended: the ``created_at`` and id of its last item."""

    created_at: dt.datetime
    item_id: str


def file_item(session: Session, new_item: NewItem) -> InboxItem:
    """The delivery's inbox item, filed now unless an earlier attempt filed it."""
    existing = _by_delivery(session, new_item.delivery_id)
    if existing is not None:
        return existing
    inbox_item = InboxItem(
        user_id=new_item.user_id,
        notification_id=new_item.notification_id,
        delivery_id=new_item.delivery_id,
        title=new_item.title,
        body=new_item.body,
        payload=dict(new_item.payload),
    )
    session.add(inbox_item)
    try:
        session.commit()
    except IntegrityError:
        # Another sender filed the same delivery between our read and our insert.
        session.rollback()
        return session.scalars(select(InboxItem).where(InboxItem.delivery_id == new_item.delivery_id)).one()
    return inbox_item


def _by_delivery(session: Session, delivery_id: str) -> InboxItem | None:
    return session.scalars(select(InboxItem).where(InboxItem.delivery_id == delivery_id)).one_or_none()


def inbox_page(
    session: Session, user_id: str, limit: int, before: Position | None = None, unread_only: bool = False,
) -> Sequence[InboxItem]:
    """Up to ``limit`` items of the user, newest first, older than ``before``."""
    query = select(InboxItem).where(InboxItem.user_id == user_id)
    if unread_only:
        query = query.where(InboxItem.read_at.is_(None))
    if before is not None:
        query = query.where(or_(
            InboxItem.created_at < before.created_at,
            and_(InboxItem.created_at == before.created_at, InboxItem.id < before.item_id),
        ))
    newest_first = (InboxItem.created_at.desc(), InboxItem.id.desc())
    return session.scalars(query.order_by(*newest_first).limit(limit)).all()


def unread_backlog(session: Session, user_id: str) -> Sequence[InboxItem]:
    """The newest unread items (at most :data:`BACKLOG_LIMIT`), oldest first, for a socket that connects."""
    newest = inbox_page(session, user_id, BACKLOG_LIMIT, unread_only=True)
    return list(reversed(newest))


def unread_count(session: Session, user_id: str) -> int:
    """How many of the user's items are unread."""
    unread = (InboxItem.user_id == user_id) & InboxItem.read_at.is_(None)
    counted = session.scalar(select(func.count()).select_from(InboxItem).where(unread))
    return int(counted or 0)


def mark_read(session: Session, user_id: str, item_id: str) -> InboxItem | None:
    """Mark one item read (the first reading time stays); ``None`` when the user has no such item."""
    inbox_item = session.get(InboxItem, item_id)
    if inbox_item is None or inbox_item.user_id != user_id:
        return None
    if inbox_item.read_at is None:
        inbox_item.read_at = utcnow()
        session.commit()
    return inbox_item


def mark_all_read(session: Session, user_id: str) -> int:
    """Mark every unread item of the user read; how many were marked."""
    marked = session.execute(
        update(InboxItem)
        .where(InboxItem.user_id == user_id, InboxItem.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return int(marked.rowcount)  # type: ignore[attr-defined]
