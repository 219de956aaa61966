"""The sender: hands a rendered message to its channel, at most once per delivery.

A delivery is claimed with one atomic compare-and-set (``pending`` or an
expired ``sending`` -> ``sending``), so two copies of the same message, in
one consumer or in two, never both reach the provider. The one window left,
the provider accepted and the process died before the row said ``sent``, is
bounded by the channel's idempotency key (the email ``Message-ID``); see
``docs/guarantees.md``.
"""

import datetime as dt
import logging
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, exc, or_, update

from notifier.channels.base import OutgoingMessage, SendResult, SendStatus
from notifier.faults import crash_point
from notifier.models import Delivery, DeliveryState
from notifier.observability.deliveries import observe_completion, timed_send
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import ChannelMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, Retry
from notifier.ratelimit import send_limits
from notifier.pipeline.skips import skip_if_opted_out
from notifier.preferences.subjects import Recipient

logger = logging.getLogger(__name__)

#: Writing the answer of a send is retried this many times when the database drops the connection:
#: the mail is out, and giving up here is what could make it go out twice.
RECORD_ATTEMPTS = 5
RECORD_RETRY_SECONDS = 0.5


def _claimable(context: StageContext, now: dt.datetime) -> ColumnElement[bool]:
    lease_expired = now - dt.timedelta(seconds=context.sending_lease_seconds)
    states = [Delivery.state == DeliveryState.pending]
    if context.replayed:
        states.append(Delivery.state == DeliveryState.failed)
    states.append((Delivery.state == DeliveryState.sending) & (Delivery.sending_since < lease_expired))
    return or_(*states)


def _claim(context: StageContext, delivery_id: str) -> bool:
    """Move the delivery to ``sending`` if nobody else holds it; True when we got it."""
    now = context.clock()
    claimed = context.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _claimable(context, now))
        .values(state=DeliveryState.sending, sending_since=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False),
    )
    context.session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _apply(context: StageContext, delivery_id: str, outcome: SendResult) -> Outcome:
    """Write the channel's answer to the delivery row and decide what happens next."""
    delivery = context.session.get_one(Delivery, delivery_id)
    delivery.sending_since = None
    if outcome.status == SendStatus.sent:
        delivery.state = DeliveryState.sent
        delivery.sent_at = context.clock()
        delivery.provider_message_id = outcome.provider_message_id
        delivery.last_error = None
        decision: Outcome = Done()
    elif outcome.status == SendStatus.temporary_failure and not context.is_last_attempt:
        delivery.state = DeliveryState.pending
        delivery.last_error = outcome.detail
        decision = Retry(outcome.detail)
    else:
        delivery.state = DeliveryState.failed
        delivery.last_error = outcome.detail
        decision = Park(_park_reason(context, outcome))
    context.session.commit()
    return decision


def _park_reason(context: StageContext, outcome: SendResult) -> str:
    if outcome.status == SendStatus.temporary_failure:
        return 'gave up after {0} attempts: {1}'.format(context.attempt, outcome.detail)
    return outcome.detail


def _record(context: StageContext, delivery_id: str, outcome: SendResult) -> Outcome:
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            return _apply(context, delivery_id, outcome)
        except exc.OperationalError as error:
            context.session.rollback()
            if attempt == RECORD_ATTEMPTS:
                raise
            logger.warning('recording delivery %s failed (%s), trying again', delivery_id, error)
            time.sleep(RECORD_RETRY_SECONDS * attempt)
    raise AssertionError('unreachable')


def _skipped_as_opted_out(context: StageContext, message: Mapping[str, Any], delivery: Delivery) -> bool:
    """Right before sending, check again: the recipient may have opted out while the message waited."""
    if message['category'] is None:
        return False  # a message from before categories: the worker checked
    recipient = Recipient(user_id=message['user_id'], email=delivery.recipient)
    return skip_if_opted_out(context.session, delivery, recipient, message['category'])


def send(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Send one delivery through its channel, unless it was already sent or is being sent."""
    message = load_message(ChannelMessageSchema, body)
    delivery = context.session.get(Delivery, message['delivery_id'])
    if delivery is None:
        return Park('delivery {0} does not exist'.format(message['delivery_id']))
    channel = context.channels.get(delivery.channel)
    if channel is None:
        return Park('no installed plugin provides channel {0!r}'.format(delivery.channel))
    if context.limiter is not None:
        context.limiter.acquire_all(send_limits(delivery.channel, delivery.recipient))
    if _skipped_as_opted_out(context, message, delivery) or not _claim(context, delivery.id):
        context.session.refresh(delivery)
        if delivery.state == DeliveryState.sending:
            return Retry('delivery {0} is being sent by another consumer'.format(delivery.id))
        return Done()
    context.session.refresh(delivery)
    crash_point('sender.after_claim')
    rendered = message['rendered']
    outcome = timed_send(delivery.channel, channel.send, OutgoingMessage(
        delivery_id=delivery.id,
        notification_id=delivery.notification_id,
        recipient=delivery.recipient,
        subject=rendered['subject'],
        html=rendered['html'],
        text=rendered['text'],
        headers=message['headers'],
        blocks=rendered['blocks'],
    ))
    crash_point('sender.after_send')
    decision = _record(context, delivery.id, outcome)
    observe_completion(context.session, message['delivery_id'], decision)
    return decision
