"""The preferences of a page of recipients, read in two queries instead of several per recipient.

A mailing's generator decides for every recipient of a page; asking the
database per recipient and channel made the page (and any instant
notification waiting behind it) several hundred queries long. The snapshot
is read when the page is, so it is as fresh as the page itself; the worker
and the sender check the opt-out again before sending.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Table, false, select
from sqlalchemy.orm import Session

from notifier.models.membership import one_of
from notifier.models.preference import EVERY_CHANNEL, Preference, PreferenceProfile
from notifier.preferences.subjects import Recipient

PROFILES: Table = PreferenceProfile.__table__  # type: ignore[assignment]
SWITCHES: Table = Preference.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Profile:
    """What the rules read of a subject's profile (plain values: no ORM object per recipient)."""

    opted_out: bool
    time_zone: str | None
    quiet_start: str | None
    quiet_end: str | None


class PagePreferences:
    """Every profile and every switched-off (subject, channel) of a page's recipients for one category."""

    def __init__(self, session: Session, recipients: Iterable[Recipient], category: str) -> None:
        """Read the page's preferences for ``category`` (two queries)."""
        subjects = sorted({subject for recipient in recipients for subject in recipient.subjects})
        self._category = category
        profile_columns = PROFILES.c
        profiles = session.execute(
            select(
                profile_columns.subject, profile_columns.opted_out, profile_columns.time_zone,
                profile_columns.quiet_start, profile_columns.quiet_end,
            ).where(one_of(session, profile_columns.subject, subjects)),
        )
        self._profiles = {row.subject: Profile(*row[1:]) for row in profiles}
        switches = SWITCHES.c
        switched = session.execute(
            select(switches.subject, switches.channel).where(
                one_of(session, switches.subject, subjects), switches.category == category, switches.enabled == false(),
            ),
        )
        self._off = {(subject, channel) for subject, channel in switched}

    def everything_off(self, subjects: Sequence[str]) -> bool:
        """Whether any of the subjects opted out of everything."""
        return any(self._profiles[subject].opted_out for subject in subjects if subject in self._profiles)

    def switched_off(self, subjects: Sequence[str], category: str, channel: str) -> bool:
        """Whether any of the subjects turned the category off on this channel or on every channel."""
        if category != self._category:
            raise ValueError('this snapshot holds {0!r}, not {1!r}'.format(self._category, category))
        return any(
            (subject, EVERY_CHANNEL) in self._off or (subject, channel) in self._off
            for subject in subjects
        )

    def profile(self, subject: str) -> Profile | None:
        """The subject's profile (quiet hours, time zone), if any."""
        return self._profiles.get(subject)
