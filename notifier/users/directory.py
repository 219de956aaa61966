"""The port: what the pipeline asks of a user directory, whichever service answers.

Three reads, all of them batch-friendly: one user, many users by id in one
call, and one keyset page of an audience segment. A user the directory does
not know is absent from the answer (the pipeline skips it, never retries it);
a directory that cannot answer raises :class:`DirectoryUnavailableError`
(the pipeline retries later).
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

#: The segment every user belongs to.
EVERYONE: Final = 'all'
#: The most ids one ``get_many`` call sends, and the largest page.
MAX_BATCH: Final = 500
#: The subscribers of a show are the segment ``show:<show id>`` (``docs/user-directory.md``).
SHOW_SEGMENT_PREFIX: Final = 'show:'
#: Segment names are at most this long, so a show id at most this minus the prefix.
MAX_SEGMENT_LENGTH: Final = 64
MAX_SHOW_ID_LENGTH: Final = MAX_SEGMENT_LENGTH - len(SHOW_SEGMENT_PREFIX)


class DirectoryUnavailableError(Exception):
    """The directory could not answer now (down, timed out, 5xx, garbled): try again later."""


@dataclass(frozen=True)
class UserProfile:
    """What the notifier knows about a user."""

    id: str
    email: str | None = None
    name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    phone: str | None = None
    push_tokens: tuple[str, ...] = ()
    registered_at: dt.datetime | None = None

    def template_fields(self) -> dict[str, Any]:
        """The fields a template gets about this user; the event's own fields win over them."""
        known = {'user_id': self.id, 'email': self.email, 'name': self.name}
        return {field_name: field_value for field_name, field_value in known.items() if field_value is not None}


@dataclass(frozen=True)
class UserPage:
    """One keyset page of a segment; ``next_cursor`` is ``None`` on the last page."""

    users: Sequence[UserProfile] = field(default_factory=tuple)
    next_cursor: str | None = None


class UserDirectory(Protocol):
    """Where users come from: the local table or the auth service."""

    def get(self, user_id: str) -> UserProfile | None:
        """One user, or ``None`` when the directory does not know (or no longer knows) them."""

    def get_many(self, user_ids: Sequence[str]) -> Mapping[str, UserProfile]:
        """The known users among ``user_ids``, by id; one call per :data:`MAX_BATCH` ids."""

    def page(self, segment: str, after: str | None, limit: int) -> UserPage:
        """Users of ``segment`` after the ``after`` cursor, in a stable order, at most ``limit``."""


def show_subscribers(show_id: str) -> str:
    """The segment of the users who subscribe to a show."""
    return '{0}{1}'.format(SHOW_SEGMENT_PREFIX, show_id)


def chunks(user_ids: Sequence[str], size: int = MAX_BATCH) -> list[Sequence[str]]:
    """``user_ids`` without duplicates, cut into batches of at most ``size``."""
    unique = list(dict.fromkeys(user_ids))
    starts = range(0, len(unique), size)
    return [unique[start:start + size] for start in starts]
