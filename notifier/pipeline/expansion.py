"""Expanding a bulk notification's audience, one page per generator message, from its checkpoint.

The generator returns the worker messages of one page as a lazy iterator and
the checkpoint as what runs after them (``Done.then``): the runner publishes
the page (or hands it to a chained worker and publishes what that forwards),
and only once all of it is durable does it move the checkpoint. Memory holds one page whatever the
audience size; a generator killed mid-way resumes from the last checkpoint,
and the page it may publish twice is absorbed by the deliveries' UNIQUE.

After the checkpoint comes one more message: the mailing's
next generator message, on the bulk lane. So a mailing of a million
recipients is two thousand short generator messages, not one that holds the
generator for minutes: instant notifications are served between pages, and
a pause or cancel (read before each page) stops it at the next one. The
checkpoint is a compare-and-set on the cursor: when a crash leaves two
messages of one mailing, both may expand the same page, but only one moves
the checkpoint and carries on.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace

from sqlalchemy import update

from notifier.models import Mailing, MailingState, Notification, NotificationStatus
from notifier.notification_types import category_of
from notifier.pipeline.addressing import Addressee
from notifier.pipeline.audience import AudiencePage, audience_page
from notifier.pipeline.channel_addresses import addressed_forwards, has_any_address, missing_address_reason
from notifier.pipeline.context import StageContext
from notifier.pipeline.outcomes import Done, Forward, Outcome, Park, Retry
from notifier.pipeline.router import generator_message
from notifier.pipeline.skips import record_skip
from notifier.preferences.rules import decide
from notifier.preferences.snapshot import PagePreferences
from notifier.ratelimit import GENERATOR_PUBLISH
from notifier.users import DirectoryUnavailableError

#: The worker message's field naming the moment whose template versions a mailing renders.
TEMPLATES_AS_OF = 'templates_as_of'
QUIET_HOURS = 'in quiet hours (mailings do not wait per recipient)'


def _skip_channels(context: StageContext, notification: Notification, recipient: str, reason: str) -> None:
    for channel in notification.channels:
        record_skip(context.session, notification.id, recipient, channel, reason)


def _forwards(
    context: StageContext, notification: Notification, addressee: Addressee, preferences: PagePreferences,
) -> Iterator[Forward]:
    if not has_any_address(context, addressee, notification.channels):
        reason = missing_address_reason(context, addressee, notification.channels[0])
        _skip_channels(context, notification, addressee.delivery_recipient, reason)
        return
    for channel in notification.channels:
        if _allowed(context, notification, addressee, channel, preferences):
            for forward in addressed_forwards(context, notification, addressee, channel):
                if context.limiter is not None:
                    context.limiter.acquire(GENERATOR_PUBLISH)
                yield forward


def _allowed(
    context: StageContext, notification: Notification, addressee: Addressee, channel: str, preferences: PagePreferences,
) -> bool:
    """The recipient's preferences allow this channel now; else the delivery is skipped with why."""
    category = category_of(notification.type)
    verdict = decide(preferences, addressee.recipient, category, channel, context.clock())
    if verdict.allowed and verdict.wait_until is None:
        return True
    reason = QUIET_HOURS if verdict.allowed else verdict.reason
    record_skip(context.session, notification.id, addressee.delivery_recipient, channel, reason)
    return False


def _checkpoint(context: StageContext, mailing_id: str, cursor: str | None, page: AudiencePage) -> bool:
    """Move the checkpoint from ``cursor`` past the page, unless another message of this mailing already did."""
    changes: dict[str, object] = {'cursor': page.next_cursor, 'expanded': Mailing.expanded + page.size}
    if page.next_cursor is None:
        changes.update(state=MailingState.expanded, expanded_at=context.clock())
    at_page = Mailing.cursor.is_not_distinct_from(cursor)
    moved = context.session.execute(
        update(Mailing)
        .where(Mailing.notification_id == mailing_id, at_page, Mailing.state != MailingState.cancelled)
        .values(changes)
        .execution_options(synchronize_session=False),
    )
    context.session.commit()
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _page_messages(
    context: StageContext, notification: Notification, mailing: Mailing, page: AudiencePage,
) -> Iterator[Forward]:
    """The worker messages of a page, pinned to the template versions the mailing started with."""
    pinned = {TEMPLATES_AS_OF: mailing.started_at.isoformat()}
    for recipient, reason in page.skipped:
        _skip_channels(context, notification, recipient, reason)
    recipients = [addressee.recipient for addressee in page.addressees]
    preferences = PagePreferences(context.session, recipients, category_of(notification.type))
    for addressee in page.addressees:
        for forward in _forwards(context, notification, addressee, preferences):
            yield replace(forward, body={**forward.body, **pinned})


@dataclass(frozen=True)
class _AfterPage:
    """Runs once the whole page is published: the checkpoint, then the mailing's next message.

    ``cursor`` is the checkpoint the page was read from (taken before anything committed, so a
    checkpoint another message moved meanwhile is seen as moved).
    """

    context: StageContext
    mailing_id: str
    cursor: str | None
    page: AudiencePage
    next_page: Forward | None

    def __call__(self) -> list[Forward]:
        """The mailing's next message, if this page moved the checkpoint and there is a next page."""
        if _checkpoint(self.context, self.mailing_id, self.cursor, self.page) and self.next_page is not None:
            return [self.next_page]
        return []


def expand_mailing(context: StageContext, notification: Notification) -> Outcome:
    """Expand a bulk notification from its checkpoint (lazily: see the module's docstring)."""
    mailing = context.session.get(Mailing, notification.id)
    if mailing is None:
        return Park('bulk notification {0} has no mailing (audience)'.format(notification.id))
    if mailing.state != MailingState.expanding:
        return Done()  # paused, cancelled or done: a later resume sends a new message
    cursor = mailing.cursor  # the page's checkpoint, read with the page (attributes reload after a commit)
    try:
        page = audience_page(context, notification, mailing)  # one page in memory, read before publishing
    except DirectoryUnavailableError as error:
        return Retry(str(error))  # (its circuit breaker may stop the generator meanwhile)
    if notification.status != NotificationStatus.processing:
        notification.status = NotificationStatus.processing
        context.session.commit()
    next_page = generator_message(notification, page.next_cursor) if page.next_cursor is not None else None
    return Done(
        forward=_page_messages(context, notification, mailing, page),
        then=_AfterPage(context, notification.id, cursor, page, next_page),
    )
