"""Whether a recipient wants a notification of a category on a channel, and when.

The rules, in order: transactional notifications always go, at once. A global
opt-out of any of the recipient's subjects (the user's, the address's) stops
everything else. A switch that is off for the category on every channel
(``*``) or on this channel stops it. Otherwise it goes, after the quiet hours
if ``now`` is inside them.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from notifier.models.preference import EVERY_CHANNEL, Preference, PreferenceProfile
from notifier.notification_types import Category
from notifier.preferences.quiet import parse_clock, quiet_until, zone_named
from notifier.preferences.subjects import Recipient

#: The reason a skipped delivery records.
OPTED_OUT: Final = 'opted out'


@dataclass(frozen=True)
class Verdict:
    """Send, skip (with the reason) or wait until a moment (aware UTC)."""

    allowed: bool
    reason: str = ''
    wait_until: dt.datetime | None = None


SEND = Verdict(allowed=True)
SKIP = Verdict(allowed=False, reason=OPTED_OUT)


def opted_out(session: Session, recipient: Recipient, category: str, channel: str) -> bool:
    """Whether the recipient turned this category off on this channel, or everything off."""
    subjects = recipient.subjects
    if category == Category.transactional or not subjects:
        return False
    everything_off = session.scalar(
        select(PreferenceProfile.subject)
        .where(PreferenceProfile.subject.in_(subjects), PreferenceProfile.opted_out)
        .limit(1),
    )
    if everything_off is not None:
        return True
    switched_off = session.scalar(
        select(Preference.subject).where(
            Preference.subject.in_(subjects),
            Preference.category == category,
            Preference.channel.in_((EVERY_CHANNEL, channel)),
            Preference.enabled == false(),
        ).limit(1),
    )
    return switched_off is not None


def quiet_hours_end(session: Session, recipient: Recipient, now: dt.datetime) -> dt.datetime | None:
    """When the recipient's quiet hours holding ``now`` end; the user's profile comes before the address's."""
    for subject in recipient.subjects:
        profile = session.get(PreferenceProfile, subject)
        if profile is None or not (profile.quiet_start and profile.quiet_end):
            continue
        zone = zone_named(profile.time_zone or recipient.time_zone)
        return quiet_until(now, parse_clock(profile.quiet_start), parse_clock(profile.quiet_end), zone)
    return None


def decide(session: Session, recipient: Recipient, category: str, channel: str, now: dt.datetime) -> Verdict:
    """What to do with a notification of ``category`` on ``channel`` for ``recipient`` at ``now``."""
    if category == Category.transactional:
        return SEND
    if opted_out(session, recipient, category, channel):
        return SKIP
    wait_until = quiet_hours_end(session, recipient, now)
    if wait_until is not None:
        return Verdict(allowed=True, wait_until=wait_until)
    return SEND
