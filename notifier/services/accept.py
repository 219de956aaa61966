"""Accepting an event: the notification and its outbox row, in one transaction and one commit.

The request never talks to the broker: the outbox relay publishes the row,
woken at once by PostgreSQL (a trigger on ``outbox`` notifies it).

Idempotency: an ``Idempotency-Key`` with the same request body returns the
notification accepted the first time; with another body it is a conflict.
"""

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models import Notification, NotificationStatus
from notifier.models.base import new_id, utcnow
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.observability.log_context import bound
from notifier.services.announcements import commit_alone, insert_with_outbox
from notifier.services.companions import add_companions, brings_rows

logger = logging.getLogger(__name__)


class IdempotencyConflictError(ValueError):
    """The key was used before with another request body."""


@dataclass(frozen=True)
class Intake:
    """What accepting needs of the deployment."""

    default_locale: str
    #: Users live in our ``users`` table (no ``NOTIFIER_USERS_URL``): a registration's user is stored there.
    local_directory: bool = False


@dataclass(frozen=True)
class Accepted:
    """The accepted notification and whether it is new (the outbox relay publishes it)."""

    notification: Notification
    created: bool


def request_hash(raw_body: Any) -> str:
    """A stable hash of a request body (key order and spacing do not matter)."""
    canonical = json.dumps(raw_body, sort_keys=True, ensure_ascii=False, separators=(',', ':'))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _existing(session: Session, idempotency_key: str, body_hash: str) -> Accepted | None:
    """The notification a key already names (a replay), or ``None`` (a conflict raises)."""
    notification = session.scalars(
        select(Notification).where(Notification.idempotency_key == idempotency_key),
    ).one_or_none()
    if notification is None:
        return None
    same_request(notification.request_hash, body_hash, idempotency_key)
    return Accepted(notification, created=False)


def same_request(stored_hash: str | None, body_hash: str, idempotency_key: str) -> None:
    """A key used again must come with the same body; else :class:`IdempotencyConflictError`."""
    if stored_hash != body_hash:
        raise IdempotencyConflictError(
            'Idempotency-Key {0!r} was used with another request body'.format(idempotency_key),
        )


def accept_event(
    session: Session,
    event: Mapping[str, Any],
    raw_body: Any,
    idempotency_key: str | None,
    intake: Intake,
) -> Accepted:
    """Store a validated event as a notification with its outbox row (and its mailing or new user).

    One commit. Without a key and without other rows, on PostgreSQL, one autocommitted statement
    (:func:`~notifier.services.announcements.commit_alone`); else Core inserts, the companions, a commit.
    """
    body_hash = request_hash(raw_body)
    if idempotency_key is not None:
        replayed = _existing(session, idempotency_key, body_hash)
        if replayed is not None:
            return replayed
    notification = new_notification(event, body_hash, idempotency_key, intake.default_locale)
    local_directory = intake.local_directory
    alone = idempotency_key is None and not brings_rows(notification, local_directory=local_directory)
    if alone and commit_alone(session, notification):
        return _accepted(notification)
    try:
        insert_with_outbox(session, [notification])
        add_companions(session, notification, event['meta'].get('audience'), local_directory=local_directory)
        session.commit()
    except IntegrityError as error:
        session.rollback()
        return _raced(session, idempotency_key, body_hash, error)
    return _accepted(notification)


def _raced(session: Session, idempotency_key: str | None, body_hash: str, error: IntegrityError) -> Accepted:
    """Another request stored the same key first: a replay of it (or a conflict); else ``error`` is raised."""
    replayed = None if idempotency_key is None else _existing(session, idempotency_key, body_hash)
    if replayed is None:
        raise error
    return replayed


def _accepted(notification: Notification) -> Accepted:
    with bound(notification_id=notification.id):
        logger.info('accepted a %s notification (%s, %s)', notification.type, notification.urgency, notification.scale)
    return Accepted(notification, created=True)


def new_notification(
    event: Mapping[str, Any], body_hash: str, idempotency_key: str | None, default_locale: str,
) -> Notification:
    """The notification of a validated event, every column set (its id and acceptance time now), not in a session.

    :func:`~notifier.services.announcements.insert_with_outbox` writes it; the object is only read after.
    """
    meta = event['meta']
    event_fields = event['event_fields']
    kind = NOTIFICATION_TYPES[event['notification_type']]
    user_id = event_fields.get('user_id')
    fallback_user_id = None if user_id is None else str(user_id)
    return Notification(
        id=new_id(),
        created_at=utcnow(),
        occurrence_id=None,
        idempotency_key=idempotency_key,
        request_hash=body_hash,
        type=kind.name,
        urgency=meta['urgency'],
        scale=meta['scale'],
        periodic=meta['periodic'],
        template=event['custom_template'] or kind.template,
        locale=meta['locale'] or default_locale,
        channels=list(dict.fromkeys(event['channels'])),
        recipient_email=meta['email'] or event_fields.get('email'),
        recipient_id=meta['user_id'] or fallback_user_id,
        fields=event_fields,
        content_id=event['content_id'],
        scheduled_at=meta['scheduled_at'],
        status=NotificationStatus.accepted,
    )
