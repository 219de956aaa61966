"""What a recipient chose: switches per category x channel, a global opt-out, quiet hours.

A recipient is a *subject*: ``user:<id>`` for a user of the directory, or
``email:<normalized address>`` for one known only by address (the brief's
``meta.email`` events); both can unsubscribe.
"""

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, utcnow

#: ``user:`` or ``email:`` and an address of up to 320 characters.
SUBJECT_LENGTH = 330
#: The channel of a switch that applies to every channel of its category.
EVERY_CHANNEL = '*'


class PreferenceProfile(Base):
    """A subject's global opt-out, time zone and quiet hours (local ``HH:MM``)."""

    __tablename__ = 'preference_profiles'

    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    opted_out: Mapped[bool] = mapped_column(default=False)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Preference(Base):
    """One switch: a category on one channel, or on every channel (``*``)."""

    __tablename__ = 'preferences'

    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
