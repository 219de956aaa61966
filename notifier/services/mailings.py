"""Mailings: a bulk notification's audience, its progress, and pause, resume, cancel.

Pausing stops the expansion between two pages: recipients not yet queued
wait; what is already queued (at most a page) still goes out. Resuming
queues the notification again; the expansion carries on from its
checkpoint. Cancelling stops the expansion and skips every delivery not yet
sent ("mailing cancelled").
"""

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState, Mailing, MailingState, Notification, NotificationStatus, User
from notifier.models.user import UserSegment
from notifier.pipeline.outbox import outbox_row
from notifier.pipeline.router import generator_message

CANCELLED_REASON = 'mailing cancelled'


#: pause, resume or cancel: returns the outbox rows to publish.
Change = Callable[[Session, Mailing], list[int]]


class MailingStateError(ValueError):
    """The mailing is not in a state that allows this."""


def count_audience(session: Session, audience: Mapping[str, Any]) -> int | None:
    """How many recipients the audience names, from the local directory or the list (``None``: unknown)."""
    listed = audience.get('user_ids') or audience.get('emails')
    if listed is not None:
        return len(listed)
    segment = audience.get('segment', 'all')
    if segment == 'all':
        return session.scalar(select(func.count()).select_from(User))
    members = select(func.count()).select_from(UserSegment).where(UserSegment.segment == segment)
    return session.scalar(members)


def add_mailing(session: Session, notification: Notification, audience: Mapping[str, Any]) -> Mailing:
    """The mailing row of a new bulk notification (its total counted from the local directory or list)."""
    # Each listed recipient once: a mailing has one delivery per recipient and channel.
    listed_once = {
        kind: list(dict.fromkeys(members)) if isinstance(members, list) else members
        for kind, members in audience.items()
    }
    mailing = Mailing(
        notification_id=notification.id,
        audience=listed_once,
        state=MailingState.expanding,
        expanded=0,
        total=count_audience(session, listed_once),
    )
    session.add(mailing)
    return mailing


def _set_state(session: Session, mailing: Mailing, allowed_from: tuple[str, ...], state: str) -> None:
    changed = session.execute(
        update(Mailing)
        .where(Mailing.notification_id == mailing.notification_id, Mailing.state.in_(allowed_from))
        .values(state=state)
        .execution_options(synchronize_session=False),
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(mailing)
        raise MailingStateError('the mailing is {0}: it cannot become {1}'.format(mailing.state, state))


def pause(session: Session, mailing: Mailing) -> list[int]:
    """Stop expanding between pages."""
    _set_state(session, mailing, (MailingState.expanding,), MailingState.paused)
    session.commit()
    return []


def resume(session: Session, mailing: Mailing) -> list[int]:
    """Expand again from the checkpoint; returns the outbox row to publish."""
    _set_state(session, mailing, (MailingState.paused,), MailingState.expanding)
    notification = session.get_one(Notification, mailing.notification_id)
    row = outbox_row(generator_message(notification))
    session.add(row)
    session.commit()
    return [row.id]


def cancel(session: Session, mailing: Mailing) -> list[int]:
    """Stop for good: no more expansion, and every delivery not yet sent is skipped."""
    _set_state(session, mailing, (MailingState.expanding, MailingState.paused), MailingState.cancelled)
    session.execute(
        update(Notification)
        .where(Notification.id == mailing.notification_id)
        .values(status=NotificationStatus.cancelled)
        .execution_options(synchronize_session=False),
    )
    session.execute(
        update(Delivery)
        .where(Delivery.notification_id == mailing.notification_id, Delivery.state == DeliveryState.pending)
        .values(state=DeliveryState.skipped, last_error=CANCELLED_REASON)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return []
