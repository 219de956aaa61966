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
from typing import Any

from notifier.models import Notification, NotificationStatus
from notifier.notification_types import category_of
from notifier.pipeline.addressing import Addressee, enrich
from notifier.pipeline.channel_addresses import addressed_forwards, has_any_address, missing_address_reason
from notifier.pipeline.context import StageContext
from notifier.pipeline.expansion import expand_mailing
from notifier.pipeline.messages import NotificationMessageSchema, load_message
from notifier.pipeline.outcomes import Done, Outcome, Park, Retry
from notifier.pipeline.skips import record_skip
from notifier.preferences.rules import DatabasePreferences, decide
from notifier.users import DirectoryUnavailableError, UserProfile


def _skip_all(context: StageContext, notification: Notification, recipient: str, reason: str) -> Outcome:
    for channel in notification.channels:
        record_skip(context.session, notification.id, recipient, channel, reason)
    return Done()


def _expand(context: StageContext, notification: Notification, addressee: Addressee) -> Outcome:
    """Skip the channels the recipient turned off; wait out quiet hours; forward the rest."""
    category = category_of(notification.type)
    forward = []
    for channel in notification.channels:
        verdict = decide(DatabasePreferences(context.session), addressee.recipient, category, channel, context.clock())
        if verdict.wait_until is not None:
            notification.status = NotificationStatus.scheduled
            notification.scheduled_at = verdict.wait_until
            context.session.commit()
            return Done()  # the scheduler hands it back when the quiet hours end
        if verdict.allowed:
            forward.extend(addressed_forwards(context, notification, addressee, channel))
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
    unknown_user = notification.recipient_id is not None and profile is None
    if unknown_user and notification.recipient_email is None:  # an address the event carries still gets its mail
        reason = 'user {0} does not exist (any more)'.format(notification.recipient_id)
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    if not has_any_address(context, addressee, notification.channels):
        reason = missing_address_reason(context, addressee, notification.channels[0])
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    return _expand(context, notification, addressee)


def generate(body: Mapping[str, Any], context: StageContext) -> Outcome:
    """Expand a notification into per-recipient worker messages."""
    message = load_message(NotificationMessageSchema, body)
    notification = context.session.get(Notification, message['notification_id'])
    if notification is None:
        return Park('notification {0} does not exist'.format(message['notification_id']))
    if notification.is_bulk and notification.status != NotificationStatus.cancelled:
        return expand_mailing(context, notification)
    return _individual(context, notification)


def _individual(context: StageContext, notification: Notification) -> Outcome:
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
