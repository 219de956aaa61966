"""The rows an accepted notification brings along, in its transaction: its mailing, its new user."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from notifier.implied_audiences import implied_audience
from notifier.models import Notification
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.services.mailings import add_mailing
from notifier.services.registration import register_recipient


def add_companions(
    session: Session, notification: Notification, audience: Mapping[str, Any] | None, *, local_directory: bool,
) -> None:
    """A bulk notification's mailing (its audience, or the one its type implies); a registration's user."""
    if notification.is_bulk:
        audience = audience or implied_audience(notification.type, notification.fields, notification.content_id)
        add_mailing(session, notification, audience)
    if local_directory:
        register_recipient(session, notification)


def brings_rows(notification: Notification, *, local_directory: bool) -> bool:
    """Whether :func:`add_companions` may write a row for it (a mailing, a user)."""
    return notification.is_bulk or (local_directory and NOTIFICATION_TYPES[notification.type].registers)
