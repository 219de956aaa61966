"""Drafts of mailings: save and edit them (which never sends), delete them, and launch each once.

The launch is a compare-and-set on the draft mailing: ``state = 'draft'`` and
``updated_at`` = the version the manager confirmed. Two launches of the same
draft (a double click, two tabs, two managers) change it once: the second
finds it launched and is refused. The launch and the outbox row that
announces the notification to the router are one transaction; from there the
mailing flows like any bulk event (``docs/mailings.md``).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from notifier.models import Mailing, MailingState, Notification, NotificationStatus
from notifier.pipeline.outbox import outbox_row
from notifier.services.accept import request_hash
from notifier.services.announcements import notification_message
from notifier.services.mailing_plans import (
    DRAFT,
    RECURRING,
    MailingPlan,
    TimingKind,
    audience_of,
    plan_of,
    stored_audience,
)
from notifier.services.mailings import MailingStateError, add_mailing, count_audience
from notifier.services.recurring import create_recurring

#: Notifications of mailings made in the admin panel: sent at once (or at their time), not at the next slot.
URGENCY = 'immediate'


class DraftChangedError(MailingStateError):
    """The draft was edited after the manager confirmed it: the launch must be confirmed again."""


@dataclass(frozen=True)
class Launched:
    """A launched mailing, the outbox rows to publish now, and the schedule of a recurring one."""

    notification_id: str
    outbox_ids: tuple[int, ...] = ()
    schedule_id: str | None = None


def _notification_columns(plan: MailingPlan) -> dict[str, Any]:
    timing = plan.timing
    return {
        'type': plan.notification_type,
        'template': plan.template,
        'locale': plan.locale,
        'channels': list(dict.fromkeys(plan.channels)),
        'fields': dict(plan.template_fields),
        'periodic': timing.kind == TimingKind.cron,
        'scheduled_at': timing.send_at if timing.kind == TimingKind.at else None,
    }


def save_draft(session: Session, plan: MailingPlan) -> Mailing:
    """Store a new draft; nothing is queued."""
    columns = _notification_columns(plan)
    notification = Notification(
        request_hash=request_hash({**columns, 'scheduled_at': str(columns['scheduled_at'])}),
        urgency=URGENCY,
        scale='bulk',
        status=DRAFT,
        **columns,
    )
    session.add(notification)
    session.flush()
    mailing = add_mailing(session, notification, plan.audience)
    mailing.state = DRAFT
    mailing.audience = stored_audience(plan)
    session.commit()
    return mailing


def update_draft(session: Session, notification_id: str, plan: MailingPlan) -> None:
    """Change a draft; refused (:class:`MailingStateError`) once it was launched."""
    changed = session.execute(
        update(Mailing)
        .where(Mailing.notification_id == notification_id, Mailing.state == DRAFT)
        .values(audience=stored_audience(plan), total=count_audience(session, plan.audience))
        .execution_options(synchronize_session=False),
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.rollback()
        raise MailingStateError('the mailing was launched: it can no longer be edited')
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == DRAFT)
        .values(**_notification_columns(plan))
        .execution_options(synchronize_session=False),
    )
    session.commit()


def delete_draft(session: Session, notification_id: str) -> bool:
    """Delete a draft (its mailing goes with it); False when it was launched meanwhile or is gone."""
    deleted = session.execute(
        delete(Notification)
        .where(Notification.id == notification_id, Notification.status == DRAFT)
        .execution_options(synchronize_session=False),
    )
    session.commit()
    return bool(deleted.rowcount)  # type: ignore[attr-defined]


def draft_version(mailing: Mailing) -> str:
    """What the confirmation page carries: the draft as it was shown."""
    return mailing.updated_at.isoformat()


def _claim(session: Session, mailing: Mailing, confirmed_version: str, recurring: bool, now: dt.datetime) -> None:
    try:
        confirmed_at = dt.datetime.fromisoformat(confirmed_version)
    except ValueError:
        raise DraftChangedError('confirm the launch on its confirmation page') from None
    launched_state = RECURRING if recurring else MailingState.expanding
    audience = mailing.audience if recurring else audience_of(mailing)
    claimed = session.execute(
        update(Mailing)
        .where(
            Mailing.notification_id == mailing.notification_id,
            Mailing.state == DRAFT,
            Mailing.updated_at == confirmed_at,
        )
        .values(state=launched_state, started_at=now, audience=audience, total=count_audience(session, audience))
        .execution_options(synchronize_session=False),
    )
    if claimed.rowcount:  # type: ignore[attr-defined]
        return
    session.rollback()
    session.refresh(mailing)
    if mailing.state == DRAFT:
        raise DraftChangedError('the draft was changed after you confirmed it: check the dry run and confirm again')
    raise MailingStateError('the mailing was launched already (it is {0}): nothing more is sent'.format(
        mailing.state,
    ))


def launch(session: Session, notification_id: str, confirmed_version: str, now: dt.datetime) -> Launched:
    """Launch a draft once: queue it (now or at its time) or start its schedule.

    Raises :class:`MailingStateError` when it is not a draft any more (launched
    before), :class:`DraftChangedError` when it changed since ``confirmed_version``.
    """
    mailing = session.get(Mailing, notification_id)
    notification = session.get(Notification, notification_id)
    if mailing is None or notification is None:
        raise MailingStateError('no mailing {0}'.format(notification_id))
    plan = plan_of(notification, mailing)
    recurring = plan.timing.kind == TimingKind.cron
    _claim(session, mailing, confirmed_version, recurring, now)
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == DRAFT)
        .values(status=RECURRING if recurring else NotificationStatus.accepted)
        .execution_options(synchronize_session=False),
    )
    if recurring:
        schedule = create_recurring(session, notification, plan, now)
        return Launched(notification_id, schedule_id=schedule.id)
    row = outbox_row(notification_message(notification))
    session.add(row)
    session.commit()
    return Launched(notification_id, outbox_ids=(row.id,))
