"""Recording a delivery that will not be sent (opted out, user gone), with the reason.

The row is the same one the worker would create (deterministic id), so a
skip and a send of the same recipient can never both happen: a skip only
moves a ``pending`` row, and the sender sends only what it claimed.
"""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState
from notifier.models.delivery import delivery_id_for
from notifier.preferences.rules import OPTED_OUT, opted_out
from notifier.preferences.subjects import Recipient


def skip_pending(session: Session, delivery_id: str, reason: str) -> bool:
    """Move a ``pending`` delivery to ``skipped``; True when this call did it."""
    skipped = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state == DeliveryState.pending)
        .values(state=DeliveryState.skipped, last_error=reason, sending_since=None)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return bool(skipped.rowcount)  # type: ignore[attr-defined]


def skip_if_opted_out(session: Session, delivery: Delivery, recipient: Recipient, category: str) -> bool:
    """Skip a ``pending`` delivery whose recipient opted out meanwhile; True when it is skipped now."""
    if delivery.state != DeliveryState.pending:
        return False
    if not opted_out(session, recipient, category, delivery.channel):
        return False
    return skip_pending(session, delivery.id, OPTED_OUT)


def record_skip(session: Session, notification_id: str, recipient: str, channel: str, reason: str) -> None:
    """The delivery of this recipient and channel, created ``skipped`` (or skipped if still pending)."""
    delivery_id = delivery_id_for(notification_id, recipient, channel)
    if session.get(Delivery, delivery_id) is None:
        session.add(Delivery(
            id=delivery_id,
            notification_id=notification_id,
            recipient=recipient,
            channel=channel,
            state=DeliveryState.skipped,
            last_error=reason,
        ))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # created meanwhile: fall through to the compare-and-set
        else:
            return
    skip_pending(session, delivery_id, reason)
