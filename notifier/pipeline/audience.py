"""The audience of a mailing, one keyset page at a time: a segment, a list of user ids, or addresses.

The cursor of a segment is the directory's keyset cursor; the cursor of a
list is the index of the next entry. Either is the mailing's checkpoint.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from notifier.models import Mailing, Notification
from notifier.pipeline.addressing import Addressee, enrich
from notifier.pipeline.context import StageContext
from notifier.preferences.subjects import Recipient, user_subject


@dataclass(frozen=True)
class AudiencePage:
    """The recipients of one page, those to skip (with why), and the cursor after it."""

    addressees: Sequence[Addressee]
    skipped: Sequence[tuple[str, str]]
    next_cursor: str | None
    size: int


def _next_index(start: int, taken: int, total: int) -> str | None:
    end = start + taken
    return str(end) if end < total else None


def _by_address(notification: Notification, email: str) -> Addressee:
    return Addressee(Recipient(user_id=None, email=email), email, notification.locale, notification.fields)


def _email_page(notification: Notification, emails: Sequence[str], start: int, size: int) -> AudiencePage:
    chosen = emails[start:start + size]
    addressees = [_by_address(notification, email) for email in chosen]
    next_cursor = _next_index(start, len(chosen), len(emails))
    return AudiencePage(addressees, (), next_cursor, len(chosen))


def _user_id_page(
    context: StageContext, notification: Notification, user_ids: Sequence[str], start: int,
) -> AudiencePage:
    chosen = [str(user_id) for user_id in user_ids[start:start + context.expansion_page]]
    profiles = context.directory.get_many(chosen)
    addressees: list[Addressee] = []
    skipped: list[tuple[str, str]] = []
    for user_id in chosen:
        profile = profiles.get(user_id)
        if profile is None:
            skipped.append((user_subject(user_id), 'user {0} does not exist (any more)'.format(user_id)))
        else:
            addressees.append(enrich(notification, profile))
    next_cursor = _next_index(start, len(chosen), len(user_ids))
    return AudiencePage(addressees, skipped, next_cursor, len(chosen))


def audience_page(context: StageContext, notification: Notification, mailing: Mailing) -> AudiencePage:
    """The page of the audience after the mailing's checkpoint."""
    audience = mailing.audience
    emails = audience.get('emails')
    if emails is not None:
        return _email_page(notification, emails, int(mailing.cursor or 0), context.expansion_page)
    user_ids = audience.get('user_ids')
    if user_ids is not None:
        return _user_id_page(context, notification, user_ids, int(mailing.cursor or 0))
    segment = str(audience.get('segment', 'all'))
    page = context.directory.page(segment, mailing.cursor, context.expansion_page)
    addressees = [enrich(notification, profile) for profile in page.users]
    return AudiencePage(addressees, (), page.next_cursor, len(page.users))
