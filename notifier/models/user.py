"""The local user directory: the embedded default behind ``NOTIFIER_USERS_URL``.

In production the cinema's auth service owns users and the notifier reads
them over HTTP (``docs/user-directory.md``); this table serves ``make run``
and tests, filled by ``notifier users import``.
"""

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class User(Base):
    """One user, with what a template may need about them."""

    __tablename__ = 'users'

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    push_tokens: Mapped[list[str]] = mapped_column(JSON, default=list)
    registered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UserSegment(Base):
    """A user's membership of an audience segment; the key orders a segment's keyset pages."""

    __tablename__ = 'user_segments'

    segment: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey('users.id', ondelete='CASCADE'), primary_key=True, index=True)
