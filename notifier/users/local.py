"""The local adapter: the ``users`` table of our own database."""

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.models.user import User, UserSegment
from notifier.users.directory import EVERYONE, MAX_BATCH, UserPage, UserProfile, chunks


def profile_of(row: User) -> UserProfile:
    """The port's view of a ``users`` row."""
    return UserProfile(
        id=row.id,
        email=row.email,
        name=row.name,
        locale=row.locale,
        time_zone=row.time_zone,
        phone=row.phone,
        push_tokens=tuple(row.push_tokens or ()),
        registered_at=row.registered_at,
    )


class LocalUserDirectory:
    """Reads users from the database session of the stage that asks."""

    def __init__(self, session: Session) -> None:
        """Use ``session`` for every read."""
        self._session = session

    def get(self, user_id: str) -> UserProfile | None:
        """One user, or ``None``."""
        row = self._session.get(User, user_id)
        return None if row is None else profile_of(row)

    def get_many(self, user_ids: Sequence[str]) -> Mapping[str, UserProfile]:
        """The known users among ``user_ids``."""
        found: dict[str, UserProfile] = {}
        for batch in chunks(user_ids):
            rows = self._session.scalars(select(User).where(User.id.in_(batch)))
            found.update((row.id, profile_of(row)) for row in rows)
        return found

    def page(self, segment: str, after: str | None, limit: int) -> UserPage:
        """A keyset page ordered by user id (``WHERE id > :after ORDER BY id LIMIT :limit``)."""
        limit = max(1, min(limit, MAX_BATCH))
        query = select(User).order_by(User.id).limit(limit)
        if after is not None:
            query = query.where(User.id > after)
        if segment != EVERYONE:
            # A join with the cursor on both sides: both indexes are entered at the cursor, so a page costs
            # a page however large the segment (with ``id IN (members)`` PostgreSQL walked the segment's
            # index from its start for every page: 10 ms a page at 100,000 members).
            members = UserSegment.segment == segment
            if after is not None:
                members &= UserSegment.user_id > after
            query = query.join(UserSegment, (UserSegment.user_id == User.id) & members)
        users = [profile_of(row) for row in self._session.scalars(query)]
        next_cursor = users[-1].id if len(users) == limit else None
        return UserPage(users=tuple(users), next_cursor=next_cursor)
