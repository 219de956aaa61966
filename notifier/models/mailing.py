"""A mailing: the expansion state of a bulk notification, and the run-time rate limits.

The cursor is the checkpoint of the audience expansion: the generator commits
it after each page's messages were published, so a generator that dies at
recipient 400,000 of 1,000,000 resumes from there (the deliveries' UNIQUE
absorbs the page it may publish twice).
"""

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class MailingState:
    """Where the expansion of a mailing is."""

    expanding: Final = 'expanding'
    paused: Final = 'paused'
    cancelled: Final = 'cancelled'
    expanded: Final = 'expanded'  # every recipient is queued; sending may still go on


class Mailing(Base):
    """The audience and expansion checkpoint of a bulk notification."""

    __tablename__ = 'mailings'

    notification_id: Mapped[str] = mapped_column(
        ForeignKey('notifications.id', ondelete='CASCADE'), primary_key=True,
    )
    #: ``{"segment": "all"}``, ``{"segment": NAME}``, ``{"user_ids": [...]}`` or ``{"emails": [...]}``.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=MailingState.expanding, index=True)
    cursor: Mapped[str | None] = mapped_column(String(255))
    expanded: Mapped[int] = mapped_column(default=0)
    #: Known up front for a local segment or a list; None when the directory cannot count.
    total: Mapped[int | None] = mapped_column()
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expanded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateLimit(Base):
    """A token-bucket rate an operator sets at run time (``notifier limits set NAME RATE``)."""

    __tablename__ = 'rate_limits'

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    per_second: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RateBucket(Base):
    """Where the token bucket of a limit stands, shared by every process (``notifier.ratebuckets``).

    ``next_free`` is when the bucket's next free token comes, in seconds since the epoch on the database's
    clock; each grant of tokens moves it on by ``count / rate``.
    """

    __tablename__ = 'rate_buckets'

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    next_free: Mapped[float] = mapped_column(Float)
