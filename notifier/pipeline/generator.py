"""The generator: one worker message per recipient x channel of a notification.

For an individual notification the recipient is the one the event named: by
address (the brief's ``meta.email``), or by ``user_id``, whose address, name,
locale and time zone come from the user directory (the hybrid mode: the
event's own fields win). The directory is asked once per page of recipients
(``get_many``), never once per recipient. A user it no longer knows, and a
recipient who opted out, get a ``skipped`` delivery with the reason; one in
quiet hours waits in the database until they end (transactional types never
wait).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from notifier.models import Notification, NotificationStatus
from notifier.notification_types import category_of
from notifier.pipeline import topology
from notifier.pipeline.context import StageContext
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park, Retry
from notifier.pipeline.skips import record_skip
from notifier.preferences.rules import decide
from notifier.preferences.subjects import Recipient, user_subject
from notifier.users import DirectoryUnavailableError, UserProfile


@dataclass(frozen=True)
class Addressee:
    """A recipient with what the worker needs: address, template fields, locale."""

    recipient: Recipient
    email: str | None
    locale: str
    template_fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def delivery_recipient(self) -> str:
        """What the delivery row names: the address, or ``user:<id>`` when there is none."""
        if self.email:
            return self.email
        return user_subject(self.recipient.user_id or '')


def worker_message(notification: Notification, addressee: Addressee, channel: str) -> Forward:
    """The worker's message for one recipient on one channel (the brief's worker shape)."""
    email = addressee.email or ''
    return Forward(
        routing_key=topology.WORKER,
        body={
            'notification_id': notification.id,
            'channel': channel,
            'email': email,
            'template': notification.template,
            'locale': addressee.locale,
            'fields': dict(addressee.template_fields),
            'user_id': addressee.recipient.user_id,
            'category': category_of(notification.type),
        },
        message_id='work:{0}:{1}:{2}'.format(notification.id, channel, email),
    )


def enrich(notification: Notification, profile: UserProfile | None) -> Addressee:
    """The event's recipient completed from the directory's profile (the event's fields win)."""
    if profile is None:
        return Addressee(
            recipient=Recipient(user_id=notification.recipient_id, email=notification.recipient_email),
            email=notification.recipient_email,
            locale=notification.locale,
            template_fields=notification.fields,
        )
    email = notification.recipient_email or profile.email
    return Addressee(
        recipient=Recipient(user_id=profile.id, email=email, time_zone=profile.time_zone),
        email=email,
        locale=profile.locale or notification.locale,
        template_fields={**profile.template_fields(), **notification.fields},
    )


def _skip_all(context: StageContext, notification: Notification, recipient: str, reason: str) -> Outcome:
    for channel in notification.channels:
        record_skip(context.session, notification.id, recipient, channel, reason)
    return Done()


def _expand(context: StageContext, notification: Notification, addressee: Addressee) -> Outcome:
    """Skip the channels the recipient turned off; wait out quiet hours; forward the rest."""
    category = category_of(notification.type)
    forward = []
    for channel in notification.channels:
        verdict = decide(context.session, addressee.recipient, category, channel, context.clock())
        if verdict.wait_until is not None:
            notification.status = NotificationStatus.scheduled
            notification.scheduled_at = verdict.wait_until
            context.session.commit()
            return Done()  # the scheduler hands it back when the quiet hours end
        if verdict.allowed:
            forward.append(worker_message(notification, addressee, channel))
        else:
            record_skip(context.session, notification.id, addressee.delivery_recipient, channel, verdict.reason)
    return Done(forward=forward)


def _not_yet_due(context: StageContext, notification: Notification) -> bool:
    """A copy of the message of a notification that went back to wait (quiet hours)."""
    waiting = notification.status == NotificationStatus.scheduled
    return waiting and notification.scheduled_at is not None and notification.scheduled_at > context.clock()


def _profile(context: StageContext, notification: Notification) -> UserProfile | None:
    """The directory's profile of the recipient (one batch call); ``None`` for an address-only recipient."""
    user_id = notification.recipient_id
    if user_id is None:
        return None
    return context.directory.get_many([user_id]).get(user_id)


def _addressed(context: StageContext, notification: Notification, profile: UserProfile | None) -> Outcome:
    addressee = enrich(notification, profile)
    if notification.recipient_id is not None and profile is None:
        reason = 'user {0} does not exist (any more)'.format(notification.recipient_id)
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    if addressee.email is None:
        reason = 'user {0} has no email address'.format(notification.recipient_id)
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    return _expand(context, notification, addressee)


def generate(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Expand a notification into per-recipient worker messages."""
    message = load_message(NotificationMessageSchema, body)
    notification = context.session.get(Notification, message['notification_id'])
    if notification is None:
        return Park('notification {0} does not exist'.format(message['notification_id']))
    if notification.status == NotificationStatus.cancelled or _not_yet_due(context, notification):
        return Done()
    if notification.recipient_email is None and notification.recipient_id is None:
        return Park('notification {0} names no recipient (email or user_id)'.format(notification.id))
    try:
        profile = _profile(context, notification)
    except DirectoryUnavailableError as error:
        return Retry(str(error))
    if notification.status != NotificationStatus.processing:
        notification.status = NotificationStatus.processing
        context.session.commit()
    return _addressed(context, notification, profile)
