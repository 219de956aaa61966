"""The sender: hands a rendered message to its channel, at most once per delivery.

A delivery is claimed with one atomic compare-and-set (``pending`` or an
expired ``sending`` -> ``sending``), so two copies of the same message, in
one consumer or in two, never both reach the provider. The one window left,
the provider accepted and the process died before the row said ``sent``, is
bounded by the channel's idempotency key (the email ``Message-ID``).
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, update

from notifier.channels.base import OutgoingMessage, SendResult, SendStatus
from notifier.constants import SENDING_LEASE_SECONDS
from notifier.faults import crash_point
from notifier.models import Delivery, DeliveryState
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import ChannelMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, Retry


def _claim(context: StageContext, delivery_id: str) -> bool:
    """Move the delivery to ``sending`` if nobody else holds it; True when we got it."""
    now = context.clock()
    lease_expired = now - dt.timedelta(seconds=SENDING_LEASE_SECONDS)
    claimed = context.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            or_(
                Delivery.state == DeliveryState.pending,
                (Delivery.state == DeliveryState.sending) & (Delivery.sending_since < lease_expired),
            ),
        )
        .values(state=DeliveryState.sending, sending_since=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False),
    )
    context.session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _record(context: StageContext, delivery: Delivery, outcome: SendResult) -> Outcome:
    """Write the channel's answer to the delivery row and decide what happens next."""
    delivery.sending_since = None
    if outcome.status == SendStatus.sent:
        delivery.state = DeliveryState.sent
        delivery.sent_at = context.clock()
        delivery.provider_message_id = outcome.provider_message_id
        delivery.last_error = None
        context.session.commit()
        return Done()
    delivery.last_error = outcome.detail
    if outcome.status == SendStatus.temporary_failure and not context.is_last_attempt:
        delivery.state = DeliveryState.pending
        context.session.commit()
        return Retry(outcome.detail)
    delivery.state = DeliveryState.failed
    context.session.commit()
    return Park(outcome.detail)


def send(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Send one delivery through its channel, unless it was already sent or is being sent."""
    message = load_message(ChannelMessageSchema, body)
    delivery = context.session.get(Delivery, message['delivery_id'])
    if delivery is None:
        return Park('delivery {0} does not exist'.format(message['delivery_id']))
    channel = context.channels.get(delivery.channel)
    if channel is None:
        return Park('no installed plugin provides channel {0!r}'.format(delivery.channel))
    if not _claim(context, delivery.id):
        context.session.refresh(delivery)
        if delivery.state == DeliveryState.sending:
            return Retry('delivery {0} is being sent by another consumer'.format(delivery.id))
        return Done()
    context.session.refresh(delivery)
    crash_point('sender.after_claim')
    rendered = message['rendered']
    outcome = channel.send(OutgoingMessage(
        delivery_id=delivery.id,
        notification_id=delivery.notification_id,
        recipient=delivery.recipient,
        subject=rendered['subject'],
        html=rendered['html'],
        text=rendered['text'],
    ))
    crash_point('sender.after_send')
    return _record(context, delivery, outcome)
