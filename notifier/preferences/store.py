"""A subject's preferences as one document: read whole, replaced whole (``PUT`` is idempotent).

::

    {"opted_out": false,
     "time_zone": "Europe/Moscow",
     "quiet_hours": {"start": "22:00", "end": "08:00"},
     "categories": {"service": {"enabled": true, "channels": {"email": false}},
                    "marketing": {"enabled": false, "channels": {}}}}
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models.base import utcnow
from notifier.models.preference import EVERY_CHANNEL, Preference, PreferenceProfile
from notifier.notification_types import OPTIONAL_CATEGORIES

ENABLED = 'enabled'
CHANNELS = 'channels'


def _everything_on() -> dict[str, Any]:
    return {ENABLED: True, CHANNELS: {}}


def read_preferences(session: Session, subject: str) -> dict[str, Any]:
    """The document of ``subject``; everything on when nothing was chosen."""
    profile = session.get(PreferenceProfile, subject)
    categories = {category: _everything_on() for category in OPTIONAL_CATEGORIES}
    switches = session.scalars(
        select(Preference).where(Preference.subject == subject).order_by(Preference.category, Preference.channel),
    )
    for switch in switches:
        entry = categories.setdefault(switch.category, _everything_on())
        if switch.channel == EVERY_CHANNEL:
            entry[ENABLED] = switch.enabled
        else:
            entry[CHANNELS][switch.channel] = switch.enabled
    quiet_hours = None
    if profile is not None and profile.quiet_start and profile.quiet_end:
        quiet_hours = {'start': profile.quiet_start, 'end': profile.quiet_end}
    return {
        'opted_out': bool(profile and profile.opted_out),
        'time_zone': profile.time_zone if profile else None,
        'quiet_hours': quiet_hours,
        'categories': categories,
    }


def write_preferences(session: Session, subject: str, document: Mapping[str, Any]) -> None:
    """Replace the preferences of ``subject`` with a validated document, in one transaction.

    Two writers of a new subject at once: the second one's insert fails, and it writes again over the first.
    """
    try:
        _replace(session, subject, document)
    except IntegrityError:
        session.rollback()
        _replace(session, subject, document)


def _replace(session: Session, subject: str, document: Mapping[str, Any]) -> None:
    profile = session.get(PreferenceProfile, subject)
    if profile is None:
        profile = PreferenceProfile(subject=subject)
        session.add(profile)
    quiet_hours = document.get('quiet_hours') or {}
    profile.opted_out = document['opted_out']
    profile.time_zone = document.get('time_zone')
    profile.quiet_start = quiet_hours.get('start')
    profile.quiet_end = quiet_hours.get('end')
    profile.updated_at = utcnow()
    session.execute(delete(Preference).where(Preference.subject == subject))
    for category, entry in document.get('categories', {}).items():
        session.add(Preference(subject=subject, category=category, channel=EVERY_CHANNEL, enabled=entry[ENABLED]))
        for channel, enabled in entry.get(CHANNELS, {}).items():
            session.add(Preference(subject=subject, category=category, channel=channel, enabled=enabled))
    session.commit()
