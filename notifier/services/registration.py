"""A registration event's user joins the local user directory, in the transaction that accepts it.

With the embedded default (no ``NOTIFIER_USERS_URL``) the ``users`` table is
the directory: the user a ``user_registered`` (or ``welcome``) event names is
stored there with the address and name it carries, so later mailings reach
them without a separate ``notifier users import``. With the auth service as
the directory, the auth service owns users and nothing is stored.
"""

from sqlalchemy.orm import Session

from notifier.models import Notification
from notifier.models.base import utcnow
from notifier.models.user import User
from notifier.notification_types import NOTIFICATION_TYPES


def register_recipient(session: Session, notification: Notification) -> None:
    """Insert or update the recipient of a registration event in ``users``; the caller commits."""
    user_id = notification.recipient_id
    registers = NOTIFICATION_TYPES[notification.type].registers
    if not registers or user_id is None or notification.recipient_email is None:
        return
    name = notification.fields.get('name')
    user = session.get(User, user_id)
    if user is None:
        user = User(id=user_id, registered_at=utcnow())
        session.add(user)
    user.email = notification.recipient_email
    if isinstance(name, str) and name:
        user.name = name
    user.locale = user.locale or notification.locale
