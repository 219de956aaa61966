"""Templates stored in the database; they override the files under ``templates/``."""

import datetime as dt

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow


class StoredTemplate(Base):
    """One version of a template for a channel and locale; the newest version wins."""

    __tablename__ = 'templates'
    __table_args__ = (UniqueConstraint('name', 'channel', 'locale', 'version'),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
