"""The individual notifications of a generator batch: addressed, checked against preferences, forwarded.

The recipient is the one the event named: by address (the brief's
``meta.email``), or by ``user_id``, whose address, name, locale and time zone
come from the user directory (the hybrid mode: the event's own fields win;
an address the event carries gets its mail even when the directory does not
know the user). A batch asks the directory once (``get_many``), reads the
preferences once per category and commits once. A user the directory no
longer knows, and a recipient who opted out, get a ``skipped`` delivery with
the reason; one in quiet hours waits in the database until they end
(transactional types never wait).
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import update

from notifier.models import Notification, NotificationStatus
from notifier.notification_types import category_of
from notifier.pipeline.addressing import Addressee, enrich
from notifier.pipeline.channel_addresses import addressed_forwards, has_any_address, missing_address_reason
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Outcome, Park, Retry
from notifier.pipeline.skips import record_skip
from notifier.preferences.rules import PreferenceReader, decide
from notifier.preferences.snapshot import PagePreferences
from notifier.preferences.subjects import Recipient
from notifier.users import DirectoryUnavailableError, UserProfile


def expand_individuals(context: StageContext, notifications: Mapping[int, Notification]) -> dict[int, Outcome]:
    """The outcome of each individual notification (by its index in the batch); commits once."""
    outcomes: dict[int, Outcome] = {}
    live = _live(context, notifications, outcomes)
    profiles = _profiles(context, live, outcomes)
    ready = {index: notification for index, notification in live.items() if index not in outcomes}
    _processing(context, list(ready.values()))
    readers = _preferences(context, list(ready.values()), profiles)
    for index, notification in ready.items():
        profile = profiles.get(notification.recipient_id or '')
        outcomes[index] = _addressed(context, notification, profile, readers[category_of(notification.type)])
    context.session.commit()
    return outcomes


def _live(
    context: StageContext, notifications: Mapping[int, Notification], outcomes: dict[int, Outcome],
) -> dict[int, Notification]:
    """The notifications to send now; a cancelled or waiting one is done, one without a recipient parked."""
    live = {}
    for index, notification in notifications.items():
        if notification.status == NotificationStatus.cancelled or _not_yet_due(context, notification):
            outcomes[index] = Done()
        elif notification.recipient_email is None and notification.recipient_id is None:
            outcomes[index] = Park('notification {0} names no recipient (email or user_id)'.format(notification.id))
        else:
            live[index] = notification
    return live


def _profiles(
    context: StageContext, live: Mapping[int, Notification], outcomes: dict[int, Outcome],
) -> dict[str, UserProfile]:
    """The directory's profiles of the batch's users (one call); if it is down, their messages retry."""
    user_ids = sorted({notification.recipient_id for notification in live.values() if notification.recipient_id})
    if not user_ids:
        return {}
    try:
        return dict(context.directory.get_many(user_ids))
    except DirectoryUnavailableError as error:
        for index, notification in live.items():
            if notification.recipient_id:
                outcomes[index] = Retry(str(error))
        return {}


def _processing(context: StageContext, notifications: Sequence[Notification]) -> None:
    """Mark the batch's notifications ``processing`` (one statement; a cancel meanwhile stays a cancel)."""
    moving = [notification.id for notification in notifications if notification.status != NotificationStatus.processing]
    if moving:
        context.session.execute(
            update(Notification)
            .where(Notification.id.in_(moving), Notification.status != NotificationStatus.cancelled)
            .values(status=NotificationStatus.processing)
            .execution_options(synchronize_session=False),
        )


def _preferences(
    context: StageContext, notifications: Sequence[Notification], profiles: Mapping[str, UserProfile],
) -> dict[str, PreferenceReader]:
    """One snapshot of the preferences per category of the batch (two reads each)."""
    by_category: dict[str, list[Recipient]] = {}
    for notification in notifications:
        addressee = enrich(notification, profiles.get(notification.recipient_id or ''))
        by_category.setdefault(category_of(notification.type), []).append(addressee.recipient)
    return {
        category: PagePreferences(context.session, recipients, category)
        for category, recipients in by_category.items()
    }


def _skip_all(context: StageContext, notification: Notification, recipient: str, reason: str) -> Outcome:
    for channel in notification.channels:
        record_skip(context.session, notification.id, recipient, channel, reason)
    return Done()


def _expand(
    context: StageContext, notification: Notification, addressee: Addressee, preferences: PreferenceReader,
) -> Outcome:
    """Skip the channels the recipient turned off; wait out quiet hours; forward the rest."""
    category = category_of(notification.type)
    forward = []
    for channel in notification.channels:
        verdict = decide(preferences, addressee.recipient, category, channel, context.clock())
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


def _addressed(
    context: StageContext, notification: Notification, profile: UserProfile | None, preferences: PreferenceReader,
) -> Outcome:
    addressee = enrich(notification, profile)
    unknown_user = notification.recipient_id is not None and profile is None
    if unknown_user and notification.recipient_email is None:  # an address the event carries still gets its mail
        reason = 'user {0} does not exist (any more)'.format(notification.recipient_id)
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    if not has_any_address(context, addressee, notification.channels):
        reason = missing_address_reason(context, addressee, notification.channels[0])
        return _skip_all(context, notification, addressee.delivery_recipient, reason)
    return _expand(context, notification, addressee, preferences)
