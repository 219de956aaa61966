"""Short links in notifications (``/s/<code>``) and the clicks on them.

A link belongs to the delivery it was rendered for (and so to its
notification); a click records when, and for which delivery, nothing about
the person (no IP address, no user agent).
"""

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, new_id, utcnow

#: Longer targets are refused at render time (browsers and proxies start to truncate around 2 KB).
MAX_TARGET_LENGTH = 2000
MAX_CODE_LENGTH = 32


class ShortLink(Base):
    """A code that redirects to an allowed target until it expires."""

    __tablename__ = 'short_links'

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(MAX_CODE_LENGTH), unique=True)
    target: Mapped[str] = mapped_column(String(MAX_TARGET_LENGTH))
    delivery_id: Mapped[str | None] = mapped_column(ForeignKey('deliveries.id'), index=True)
    notification_id: Mapped[str | None] = mapped_column(ForeignKey('notifications.id'), index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class LinkClick(Base):
    """One followed link: one ``GET /s/<code>``."""

    __tablename__ = 'link_clicks'

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    short_link_id: Mapped[str] = mapped_column(ForeignKey('short_links.id', ondelete='CASCADE'), index=True)
    clicked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivery_id: Mapped[str | None] = mapped_column(ForeignKey('deliveries.id'))
