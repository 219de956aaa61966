"""The transactional outbox: messages written with the data, published after commit."""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class OutboxMessage(Base):
    """A message to publish; ``published_at`` is set once the broker confirmed it."""

    __tablename__ = 'outbox'
    __table_args__ = (
        Index(
            'ix_outbox_unpublished',
            'id',
            postgresql_where=text('published_at IS NULL'),
            sqlite_where=text('published_at IS NULL'),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64))
    routing_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: AMQP headers to publish with (the request id that lets one grep follow a notification).
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publish_attempts: Mapped[int] = mapped_column(default=0)
    #: Why the last publish of this row failed, if it did.
    last_error: Mapped[str | None] = mapped_column(Text)
    #: Set when the row failed too often to try again by itself: the relay skips it (see docs/operations.md).
    set_aside_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
