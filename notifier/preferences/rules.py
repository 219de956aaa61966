"""Whether a recipient wants a notification of a category on a channel, and when.

The rules, in order: transactional notifications always go, at once. A global
opt-out of any of the recipient's subjects (the user's, the address's) stops
everything else. A switch that is off for the category on every channel
(``*``) or on this channel stops it. Otherwise it goes, after the quiet hours
if ``now`` is inside them.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

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


class ProfileValues(Protocol):
    """What the rules read of a subject's profile: the ORM row, or a snapshot's plain values."""

    @property
    def time_zone(self) -> str | None:
        """The subject's IANA time zone, if set."""

    @property
    def quiet_start(self) -> str | None:
        """Local ``HH:MM`` when quiet hours begin, if set."""

    @property
    def quiet_end(self) -> str | None:
        """Local ``HH:MM`` when quiet hours end, if set."""


class PreferenceReader(Protocol):
    """Where the rules read preferences: the database per call, or a page's snapshot."""

    def everything_off(self, subjects: Sequence[str]) -> bool:
        """Whether any of the subjects opted out of everything."""

    def switched_off(self, subjects: Sequence[str], category: str, channel: str) -> bool:
        """Whether any of the subjects turned the category off on this channel or on every channel."""

    def profile(self, subject: str) -> ProfileValues | None:
        """The subject's profile (quiet hours, time zone), if any."""


class DatabasePreferences:
    """Reads each answer from the database when asked (one recipient at a time)."""

    def __init__(self, session: Session) -> None:
        """Read through ``session``."""
        self._session = session

    def everything_off(self, subjects: Sequence[str]) -> bool:
        """Whether any of the subjects opted out of everything."""
        return self._session.scalar(
            select(PreferenceProfile.subject)
            .where(PreferenceProfile.subject.in_(subjects), PreferenceProfile.opted_out)
            .limit(1),
        ) is not None

    def switched_off(self, subjects: Sequence[str], category: str, channel: str) -> bool:
        """Whether any of the subjects turned the category off on this channel or on every channel."""
        return self._session.scalar(
            select(Preference.subject).where(
                Preference.subject.in_(subjects),
                Preference.category == category,
                Preference.channel.in_((EVERY_CHANNEL, channel)),
                Preference.enabled == false(),
            ).limit(1),
        ) is not None

    def profile(self, subject: str) -> PreferenceProfile | None:
        """The subject's profile (quiet hours, time zone), if any."""
        return self._session.get(PreferenceProfile, subject)


def opted_out(session: Session, recipient: Recipient, category: str, channel: str) -> bool:
    """Whether the recipient turned this category off on this channel, or everything off."""
    return opted_out_in(DatabasePreferences(session), recipient, category, channel)


def opted_out_in(reader: PreferenceReader, recipient: Recipient, category: str, channel: str) -> bool:
    """Whether the recipient opted out, as ``reader`` (the database, or a batch's snapshot) tells."""
    subjects = recipient.subjects
    if category == Category.transactional or not subjects:
        return False
    return reader.everything_off(subjects) or reader.switched_off(subjects, category, channel)


def _quiet_hours_end(reader: PreferenceReader, recipient: Recipient, now: dt.datetime) -> dt.datetime | None:
    """When the recipient's quiet hours holding ``now`` end; the user's profile comes before the address's."""
    for subject in recipient.subjects:
        profile = reader.profile(subject)
        if profile is None or not (profile.quiet_start and profile.quiet_end):
            continue
        zone = zone_named(profile.time_zone or recipient.time_zone)
        return quiet_until(now, parse_clock(profile.quiet_start), parse_clock(profile.quiet_end), zone)
    return None


def decide(reader: PreferenceReader, recipient: Recipient, category: str, channel: str, now: dt.datetime) -> Verdict:
    """What to do with a notification of ``category`` on ``channel`` for ``recipient`` at ``now``.

    ``reader`` is :class:`DatabasePreferences`, or a snapshot of a page's preferences (``preferences.snapshot``).
    """
    if category == Category.transactional:
        return SEND
    if opted_out_in(reader, recipient, category, channel):
        return SKIP
    wait_until = _quiet_hours_end(reader, recipient, now)
    if wait_until is not None:
        return Verdict(allowed=True, wait_until=wait_until)
    return SEND
