"""The worker: renders a recipient's message, records the delivery, queues it for sending.

The delivery row (``UNIQUE(notification_id, recipient, channel)``) is created
here; a redelivered worker message finds it and, unless it is final, forwards
the same delivery again, which the sender sends at most once.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from notifier.models import Delivery, DeliveryState, Notification
from notifier.models.delivery import FINAL_STATES, delivery_id_for
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import WorkerMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park
from notifier.templating.store import RenderedContent, TemplateError


def _delivery(context: StageContext, notification_id: str, recipient: str, channel: str) -> Delivery:
    """The delivery row of this message, created if it is new."""
    delivery_id = delivery_id_for(notification_id, recipient, channel)
    existing = context.session.get(Delivery, delivery_id)
    if existing is not None:
        return existing
    delivery = Delivery(
        id=delivery_id,
        notification_id=notification_id,
        recipient=recipient,
        channel=channel,
        state=DeliveryState.pending,
    )
    context.session.add(delivery)
    try:
        context.session.commit()
    except IntegrityError:
        # Another worker created it between our read and our insert.
        context.session.rollback()
        return context.session.get_one(Delivery, delivery_id)
    return delivery


def _fail(context: StageContext, delivery: Delivery, reason: str) -> Park:
    delivery.state = DeliveryState.failed
    delivery.last_error = reason
    context.session.commit()
    return Park(reason)


def channel_message(delivery: Delivery, rendered: RenderedContent) -> Forward:
    """The sender's message: a rendered message for one delivery (the brief's email queue shape)."""
    return Forward(
        routing_key=topology.channel_route(delivery.channel),
        body={
            'delivery_id': delivery.id,
            'notification_id': delivery.notification_id,
            'channel': delivery.channel,
            'email': delivery.recipient,
            'content': {'subject': rendered.subject, 'html': rendered.html, 'text': rendered.text},
        },
        message_id='send:{0}'.format(delivery.id),
    )


def work(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Render and record one recipient's message."""
    message = load_message(WorkerMessageSchema, body)
    notification_id = message['notification_id']
    if context.session.get(Notification, notification_id) is None:
        return Park('notification {0} does not exist'.format(notification_id))
    delivery = _delivery(context, notification_id, message['email'], message['channel'])
    if context.replayed and delivery.state == DeliveryState.failed:
        delivery.state = DeliveryState.pending  # the operator fixed the cause and asks again
        context.session.commit()
    if delivery.state in FINAL_STATES:
        return Done()
    if delivery.channel not in context.channels:
        return _fail(context, delivery, 'no installed plugin provides channel {0!r}'.format(delivery.channel))
    template_fields = {'email': delivery.recipient, **message['template_fields']}
    try:
        rendered = context.templates.render(delivery.channel, message['template'], message['locale'], template_fields)
    except TemplateError as error:
        return _fail(context, delivery, str(error))
    return Done(forward=[channel_message(delivery, rendered)])
