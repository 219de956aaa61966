"""The inbox: every websocket notification of a user, kept until they read it (and after).

One row per delivery (``UNIQUE(delivery_id)``), so a re-sent delivery files
nothing more; its ``id`` is what every live push carries, so a client that
gets the same item twice (two pushes, or a push and the backlog on connect)
shows it once.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, new_id, utcnow


class InboxItem(Base):
    """One notification in one user's inbox."""

    __tablename__ = 'inbox_items'
    __table_args__ = (
        # The inbox page (newest first) and the unread count read this index only.
        Index('ix_inbox_items_user_id_created_at', 'user_id', 'created_at'),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: The directory user id the item belongs to.
    user_id: Mapped[str] = mapped_column(String(64))
    notification_id: Mapped[str] = mapped_column(ForeignKey('notifications.id', ondelete='CASCADE'), index=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    #: Extra content for the client (``html``); the column is ``data``.
    payload: Mapped[dict[str, Any]] = mapped_column('data', JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
