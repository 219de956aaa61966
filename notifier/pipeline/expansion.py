"""Expanding a bulk notification's audience, a page at a time, from its checkpoint.

The generator returns the worker messages as a lazy iterator: the runner
publishes each (confirmed) before it asks for the next, so the code after a
page's last message runs only once the whole page is published, and that is
where the checkpoint is committed. Memory holds one page whatever the
audience size; a generator killed mid-way resumes from the last checkpoint,
and the page it may publish twice is absorbed by the deliveries' UNIQUE.
Between pages the mailing's state is read again: a pause or cancel stops the
expansion there.
"""

from collections.abc import Iterator

from notifier.models import Mailing, MailingState, Notification, NotificationStatus
from notifier.notification_types import category_of
from notifier.pipeline.addressing import Addressee
from notifier.pipeline.audience import AudiencePage, audience_page
from notifier.pipeline.channel_addresses import addressed_forwards, has_any_address, missing_address_reason
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park
from notifier.pipeline.skips import record_skip
from notifier.preferences.rules import decide
from notifier.ratelimit import GENERATOR_PUBLISH

QUIET_HOURS = 'in quiet hours (mailings do not wait per recipient)'


def _skip_channels(context: StageContext, notification: Notification, recipient: str, reason: str) -> None:
    for channel in notification.channels:
        record_skip(context.session, notification.id, recipient, channel, reason)


def _forwards(context: StageContext, notification: Notification, addressee: Addressee) -> Iterator[Forward]:
    if not has_any_address(context, addressee, notification.channels):
        reason = missing_address_reason(context, addressee, notification.channels[0])
        _skip_channels(context, notification, addressee.delivery_recipient, reason)
        return
    for channel in notification.channels:
        if _allowed(context, notification, addressee, channel):
            for forward in addressed_forwards(context, notification, addressee, channel):
                if context.limiter is not None:
                    context.limiter.acquire(GENERATOR_PUBLISH)
                yield forward


def _allowed(context: StageContext, notification: Notification, addressee: Addressee, channel: str) -> bool:
    """The recipient's preferences allow this channel now; else the delivery is skipped with why."""
    category = category_of(notification.type)
    verdict = decide(context.session, addressee.recipient, category, channel, context.clock())
    if verdict.allowed and verdict.wait_until is None:
        return True
    reason = QUIET_HOURS if verdict.allowed else verdict.reason
    record_skip(context.session, notification.id, addressee.delivery_recipient, channel, reason)
    return False


def _checkpoint(context: StageContext, mailing: Mailing, page: AudiencePage) -> None:
    mailing.cursor = page.next_cursor
    mailing.expanded += page.size
    if page.next_cursor is None:
        mailing.state = MailingState.expanded
        mailing.expanded_at = context.clock()
    context.session.commit()


def _page_messages(context: StageContext, notification: Notification, page: AudiencePage) -> Iterator[Forward]:
    for recipient, reason in page.skipped:
        _skip_channels(context, notification, recipient, reason)
    for addressee in page.addressees:
        yield from _forwards(context, notification, addressee)


def _pages(context: StageContext, notification: Notification) -> Iterator[Forward]:
    while True:
        mailing = context.session.get_one(Mailing, notification.id)
        context.session.refresh(mailing)
        if mailing.state != MailingState.expanding:
            return  # paused or cancelled between pages
        page = audience_page(context, notification, mailing)
        yield from _page_messages(context, notification, page)
        _checkpoint(context, mailing, page)  # reached once the runner published the whole page
        if page.next_cursor is None:
            return


def expand_mailing(context: StageContext, notification: Notification) -> Outcome:
    """Expand a bulk notification from its checkpoint (lazily: see the module's docstring)."""
    mailing = context.session.get(Mailing, notification.id)
    if mailing is None:
        return Park('bulk notification {0} has no mailing (audience)'.format(notification.id))
    if mailing.state != MailingState.expanding:
        return Done()
    if notification.status != NotificationStatus.processing:
        notification.status = NotificationStatus.processing
        context.session.commit()
    return Done(forward=_pages(context, notification))
