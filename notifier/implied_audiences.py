"""The audience of a bulk event that names none: it follows the event's type.

The brief's bulk event has no audience: "the generator requests from the
database all users of this notification who allow it in their settings".
``info`` goes to every user (the generator skips those who opted out of its
category); ``show_subs`` goes to the subscribers of the show it names,
``content_id`` or else ``fields.show``: the user directory's segment
``show:<show id>``. ``meta.audience`` remains the explicit form.
"""

from collections.abc import Mapping
from typing import Any

from notifier.users.directory import EVERYONE, MAX_SHOW_ID_LENGTH, show_subscribers


class NoImpliedAudienceError(ValueError):
    """The event's type implies no audience (or the event lacks what it needs): it must give ``meta.audience``."""


def _show_of(event_fields: Mapping[str, Any], content_id: str | None) -> str:
    show = event_fields.get('show')
    show_id = content_id
    if not show_id and show is not None:
        show_id = str(show)
    if not show_id:
        raise NoImpliedAudienceError(
            'a bulk show_subs notification names its show (content_id or fields.show) or gives meta.audience',
        )
    if len(show_id) > MAX_SHOW_ID_LENGTH or '\x00' in show_id:
        raise NoImpliedAudienceError('the show id (content_id or fields.show) is at most {0} characters, no NUL'.format(
            MAX_SHOW_ID_LENGTH,
        ))
    return show_id


def implied_audience(
    notification_type: str, event_fields: Mapping[str, Any], content_id: str | None,
) -> dict[str, str]:
    """The audience of a bulk event without ``meta.audience``; raises :class:`NoImpliedAudienceError`."""
    if notification_type == 'info':
        return {'segment': EVERYONE}
    if notification_type == 'show_subs':
        return {'segment': show_subscribers(_show_of(event_fields, content_id))}
    raise NoImpliedAudienceError(
        'a bulk {0} notification needs meta.audience: {{"segment": "all"}}, {{"user_ids": [...]}} '
        'or {{"emails": [...]}} (only info and show_subs imply theirs)'.format(notification_type),
    )
