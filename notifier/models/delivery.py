"""A delivery: one notification to one recipient on one channel, and its history.

``UNIQUE(notification_id, recipient, channel)`` plus the state machine
``pending -> sending -> sent | failed | skipped`` is what makes a redelivered
or replayed message never send twice.
"""

import datetime as dt
import uuid
from typing import Final, TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from notifier.models.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from notifier.models.notification import Notification

_DELIVERY_NAMESPACE = uuid.UUID('6f1c1c52-57f7-4a43-9b4c-8f3f2f1a9d10')


class DeliveryState:
    """The delivery state machine."""

    pending: Final = 'pending'
    sending: Final = 'sending'
    sent: Final = 'sent'
    failed: Final = 'failed'
    skipped: Final = 'skipped'


FINAL_STATES = frozenset((DeliveryState.sent, DeliveryState.failed, DeliveryState.skipped))


def delivery_id_for(notification_id: str, recipient: str, channel: str) -> str:
    """The deterministic id of a delivery: the same triple always gets the same id.

    Channels derive their idempotency key from it (the email ``Message-ID``).
    """
    key = '\x1f'.join((notification_id, recipient, channel))
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, key))


class Delivery(Base):
    """The history row of one recipient x notification x channel."""

    __tablename__ = 'deliveries'
    # No index on ``state`` and none on ``notification_id`` alone (the unique key starts with it), and room
    # left on each PostgreSQL page: a row's two updates stay heap-only (migration 0013, decision 17).
    __table_args__ = (
        UniqueConstraint('notification_id', 'recipient', 'channel'),
        {'postgresql_with': {'fillfactor': 70}},
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey('notifications.id'))
    recipient: Mapped[str] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(255))
    sending_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    notification: Mapped['Notification'] = relationship(back_populates='deliveries')
