"""The sender's metrics: how long a channel takes to send, how deliveries end, how long they took."""

import logging
from collections.abc import Callable, Sequence

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


def observe_completions(session: Session, finished: Sequence[tuple[str, str, Outcome]]) -> None:
    """Count deliveries the sender finished (sent: Done, failed: Park) and their accept-to-sent latency.

    ``finished`` holds (delivery id, channel, decision). A retry is not an end: nothing is counted.
    One read of the batch's notifications (when each was accepted); a database error only costs
    the latency observation.
    """
    ended = [
        (delivery_id, channel, DeliveryState.sent if isinstance(decision, Done) else DeliveryState.failed)
        for delivery_id, channel, decision in finished if isinstance(decision, (Done, Park))
    ]
    for _, channel, state in ended:
        metrics.deliveries_completed.labels(channel=channel, state=state).inc()
    sent = [delivery_id for delivery_id, _, state in ended if state == DeliveryState.sent]
    if not sent:
        return
    query = (
        select(Delivery.channel, Delivery.sent_at, Notification.created_at, Notification.urgency, Notification.scale)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.id.in_(sent))
    )
    try:
        rows = session.execute(query).all()
    except SQLAlchemyError as error:
        session.rollback()
        logger.debug('cannot observe %d deliveries: %s', len(sent), type(error).__name__)
        return
    for row in rows:
        if row.sent_at is not None:
            metrics.delivery_latency_seconds.labels(
                channel=row.channel, urgency=row.urgency, scale=row.scale,
            ).observe(max(0, (row.sent_at - row.created_at).total_seconds()))
