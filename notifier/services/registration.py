"""A registration event's user joins the local user directory, in the transaction that accepts it.

With the embedded default (no ``NOTIFIER_USERS_URL``) the ``users`` table is
the directory: the user a ``user_registered`` (or ``welcome``) event names is
stored there with the address and name it carries, so later mailings reach
them without a separate ``notifier users import``. With the auth service as
the directory, the auth service owns users and nothing is stored.

One ``INSERT … ON CONFLICT (id) DO UPDATE`` (PostgreSQL and SQLite alike), so
a registration racing an import of the same user never fails the request.
"""

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifier.models import Notification
from notifier.models.base import utcnow
from notifier.models.user import User
from notifier.notification_types import NOTIFICATION_TYPES


def _name_of(notification: Notification) -> str | None:
    name = notification.fields.get('name')
    return name if isinstance(name, str) and name else None


def _upsert(session: Session, user: dict[str, Any]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == 'postgresql' else sqlite
    inserted = dialect.insert(User).values(**user)
    session.execute(inserted.on_conflict_do_update(
        index_elements=[User.id],
        set_={
            'email': inserted.excluded.email,
            'name': func.coalesce(inserted.excluded.name, User.name),  # an event without a name keeps the known one
            'updated_at': inserted.excluded.updated_at,
        },
    ))


def register_recipient(session: Session, notification: Notification) -> None:
    """Insert or update the recipient of a registration event in ``users``; the caller commits."""
    user_id = notification.recipient_id
    registers = NOTIFICATION_TYPES[notification.type].registers
    if not registers or user_id is None or notification.recipient_email is None:
        return
    now = utcnow()
    _upsert(session, {
        'id': user_id,
        'email': notification.recipient_email,
        'name': _name_of(notification),
        'push_tokens': [],
        'registered_at': now,
        'updated_at': now,
    })
