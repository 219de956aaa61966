"""A notification: what to send, to whom, from which template, and when."""

import datetime as dt
from typing import Any, Final

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from notifier.models.base import Base, UTCDateTime, new_id, utcnow
from notifier.models.delivery import Delivery


class NotificationStatus:
    """Where a notification is in the pipeline."""

    accepted: Final = 'accepted'  # stored, its message is in the outbox or the notifications queue
    scheduled: Final = 'scheduled'  # waits in the database for the scheduler
    queued: Final = 'queued'  # handed to the generator
    processing: Final = 'processing'  # the generator is making its deliveries, or they are being sent
    cancelled: Final = 'cancelled'
    # Final: every delivery is final (``services/settlement.py``).
    sent: Final = 'sent'  # at least one delivery sent, none failed
    partially_sent: Final = 'partially_sent'  # some sent, some failed
    failed: Final = 'failed'  # none sent, some failed
    skipped: Final = 'skipped'  # every delivery skipped: nothing was to be sent


#: The ``scale`` of a mailing: its audience is expanded a page at a time, on the bulk lane.
BULK_SCALE: Final = 'bulk'


class Notification(Base):
    """One accepted event; its deliveries record what was sent."""

    __tablename__ = 'notifications'

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str] = mapped_column(String(16))
    scale: Mapped[str] = mapped_column(String(16))
    periodic: Mapped[bool] = mapped_column(default=False)
    template: Mapped[str] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(16))
    channels: Mapped[list[str]] = mapped_column(JSON)
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    recipient_id: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The film, series or episode the notification is about (the brief's ``content_id``).
    content_id: Mapped[str | None] = mapped_column(String(64), index=True)
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    #: The occurrence of a schedule that created this notification, if any.
    occurrence_id: Mapped[int | None] = mapped_column(
        ForeignKey('occurrences.id', ondelete='SET NULL'), index=True,
    )
    status: Mapped[str] = mapped_column(String(16), default=NotificationStatus.accepted, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates='notification',
        order_by='Delivery.created_at',
    )

    @property
    def is_bulk(self) -> bool:
        """A mailing: its messages take the bulk lane, so instant ones never wait behind it."""
        return self.scale == BULK_SCALE
