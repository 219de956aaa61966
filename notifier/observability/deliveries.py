"""The sender's metrics: how long a channel takes to send, how deliveries end, how long they took."""

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.models import Delivery, DeliveryState, Notification
from notifier.observability import metrics
from notifier.pipeline.outcomes import Done, Outcome, Park

logger = logging.getLogger(__name__)


def timed_send(channel: str, send: Callable[[OutgoingMessage], SendResult], message: OutgoingMessage) -> SendResult:
    """Call a channel's ``send`` and observe how long it took (``notifier_send_seconds``)."""
    with metrics.send_seconds.labels(channel=channel).time():
        return send(message)


def observe_completion(session: Session, delivery_id: str, decision: Outcome) -> None:
    """Count a delivery the sender finished (sent: Done, failed: Park) and its accept-to-sent latency.

    A retry is not an end: nothing is counted. Reads the committed row; a database error
    only costs the observation.
    """
    if isinstance(decision, Done):
        state = DeliveryState.sent
    elif isinstance(decision, Park):
        state = DeliveryState.failed
    else:
        return
    query = (
        select(Delivery.channel, Delivery.sent_at, Notification.created_at, Notification.urgency, Notification.scale)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.id == delivery_id)
    )
    try:
        row = session.execute(query).first()
    except SQLAlchemyError as error:
        session.rollback()
        logger.debug('cannot observe delivery %s: %s', delivery_id, type(error).__name__)
        return
    if row is None:
        return
    metrics.deliveries_completed.labels(channel=row.channel, state=state).inc()
    if state == DeliveryState.sent and row.sent_at is not None:
        latency = max(0, (row.sent_at - row.created_at).total_seconds())
        metrics.delivery_latency_seconds.labels(
            channel=row.channel, urgency=row.urgency, scale=row.scale,
        ).observe(latency)
