"""Periodic notifications: a schedule, and one occurrence row per fire.

``UNIQUE(schedule_id, fire_at)`` makes each fire happen once, whatever
restarts or how many schedulers run; the occurrence and the notifications it
creates are committed in one transaction.
"""

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from notifier.models.base import Base, UTCDateTime, new_id, utcnow


class MisfirePolicy:
    """What to do with fires missed while no scheduler ran."""

    fire_once: Final = 'fire_once'  # one catch-up fire for all the missed ones
    fire_all: Final = 'fire_all'  # every missed fire
    skip: Final = 'skip'  # none; carry on from the next fire time


MISFIRE_POLICIES = (MisfirePolicy.fire_once, MisfirePolicy.fire_all, MisfirePolicy.skip)


class OccurrenceState:
    """Whether a fire time produced notifications, was skipped, or failed."""

    fired: Final = 'fired'
    skipped: Final = 'skipped'
    failed: Final = 'failed'  # the fire could not be made (the reason says why); it is not retried by itself


class Schedule(Base):
    """A periodic notification: when (cron or interval), what, and to whom."""

    __tablename__ = 'schedules'

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    #: A schedule made from a periodic event: its Idempotency-Key and the hash of its request body.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    cron: Mapped[str | None] = mapped_column(String(128))
    interval_seconds: Mapped[int | None] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64), default='UTC')
    type: Mapped[str] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str | None] = mapped_column(String(16))
    channels: Mapped[list[str]] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    misfire_policy: Mapped[str] = mapped_column(String(16), default=MisfirePolicy.fire_once)
    max_lateness_seconds: Mapped[int | None] = mapped_column()
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    end_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True, index=True)
    next_fire_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Why the last fire failed (None once a later fire succeeds); the scheduler moved on to the next time.
    failure: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Occurrence(Base):
    """One fire time of a schedule, fired or skipped (by the misfire policy or max lateness)."""

    __tablename__ = 'occurrences'
    __table_args__ = (UniqueConstraint('schedule_id', 'fire_at'),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey('schedules.id', ondelete='CASCADE'), index=True)
    fire_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    notifications: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
