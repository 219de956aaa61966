"""The worker: renders a recipient's message, records the delivery, queues it for sending.

The delivery row (``UNIQUE(notification_id, recipient, channel)``) is created
here; a redelivered worker message finds it and, unless it is final, forwards
the same delivery again, which the sender sends at most once.

Preferences are checked again here (an opt-out that arrived while the message
waited is honoured: the delivery is ``skipped: opted out``), and every
non-transactional message gets its signed unsubscribe link: the template's
``{{ unsubscribe_url }}`` and the ``List-Unsubscribe`` headers (RFC 8058).
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from notifier.models import Delivery, DeliveryState, Notification, NotificationStatus
from notifier.models.delivery import FINAL_STATES, delivery_id_for
from notifier.notification_types import Category, category_of
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import WorkerMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park
from notifier.pipeline.skips import skip_if_opted_out
from notifier.preferences.subjects import Recipient
from notifier.templating.links import delivery_fields
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


def channel_message(
    delivery: Delivery,
    rendered: RenderedContent,
    recipient: Recipient,
    category: str,
    headers: Mapping[str, str],
) -> Forward:
    """The sender's message: a rendered message for one delivery (the brief's email queue shape).

    A mailing's delivery takes the channel's bulk lane (its notification is in the session already).
    """
    return Forward(
        routing_key=topology.lane_route(topology.channel_route(delivery.channel), delivery.notification.is_bulk),
        body={
            'delivery_id': delivery.id,
            'notification_id': delivery.notification_id,
            'channel': delivery.channel,
            'email': delivery.recipient,
            'content': {
                'subject': rendered.subject,
                'html': rendered.html,
                'text': rendered.text,
                'blocks': dict(rendered.blocks),
            },
            'user_id': recipient.user_id,
            'category': category,
            'headers': dict(headers),
        },
        message_id='send:{0}'.format(delivery.id),
    )


def _unsubscribe_url(context: StageContext, recipient: Recipient, category: str) -> str | None:
    """The signed unsubscribe link of this recipient and category; none for transactional mail."""
    subject = recipient.unsubscribe_subject
    if category == Category.transactional or context.unsubscribe is None or subject is None:
        return None
    return context.unsubscribe.url(subject, category)


def _render(
    context: StageContext, delivery: Delivery, message: Mapping[str, Any], unsubscribe_url: str | None,
) -> RenderedContent:
    """Render the template; the link is ours even if the event sent a field of the same name."""
    template_fields = {'email': delivery.recipient, **message['template_fields']}
    template_fields.update(delivery_fields(delivery.id, delivery.notification_id))  # short links bind to these
    if unsubscribe_url is not None:
        template_fields['unsubscribe_url'] = unsubscribe_url
    return context.templates.render(
        delivery.channel, message['template'], message['locale'], template_fields, message['templates_as_of'],
    )


def work(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Render and record one recipient's message."""
    message = load_message(WorkerMessageSchema, body)
    notification = context.session.get(Notification, message['notification_id'])
    if notification is None:
        return Park('notification {0} does not exist'.format(message['notification_id']))
    return _work(context, message, notification)


def _work(context: StageContext, message: Mapping[str, Any], notification: Notification) -> Outcome:
    if notification.status == NotificationStatus.cancelled:
        return Done()  # a cancelled mailing: what was still queued is dropped here
    delivery = _delivery(context, notification.id, message['email'], message['channel'])
    if context.replayed and delivery.state == DeliveryState.failed:
        delivery.state = DeliveryState.pending  # the operator fixed the cause and asks again
        context.session.commit()
    category = message['category'] or category_of(notification.type)
    recipient = Recipient(user_id=message['user_id'], email=delivery.recipient)
    if delivery.state in FINAL_STATES or skip_if_opted_out(context.session, delivery, recipient, category):
        return Done()
    return _rendered(context, message, delivery, recipient, category)


def _rendered(
    context: StageContext, message: Mapping[str, Any], delivery: Delivery, recipient: Recipient, category: str,
) -> Outcome:
    if delivery.channel not in context.channels:
        return _fail(context, delivery, 'no installed plugin provides channel {0!r}'.format(delivery.channel))
    unsubscribe_url = _unsubscribe_url(context, recipient, category)
    try:
        rendered = _render(context, delivery, message, unsubscribe_url)
    except TemplateError as error:
        return _fail(context, delivery, str(error))
    headers = context.unsubscribe.headers(unsubscribe_url) if context.unsubscribe and unsubscribe_url else {}
    return Done(forward=[channel_message(delivery, rendered, recipient, category, headers)])
