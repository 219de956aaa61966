"""A notification's final status, from its deliveries: sent, partially_sent, failed or skipped.

A notification in ``processing`` settles when every delivery it will have
exists and is final. "Every delivery it will have": each recipient gets at
least one delivery row per channel (sent, failed, or skipped with the
reason), so an individual notification needs at least one row per channel,
and a mailing must be expanded (every recipient queued) with at least
``expanded`` x channels rows. Until then it stays ``processing``.

=================  =========================================================
``sent``           at least one delivery sent, none failed
``partially_sent`` some deliveries sent, some failed
``failed``         none sent, at least one failed
``skipped``        every delivery skipped (opted out, unknown user, no address,
                   an empty audience): nothing was to be sent
=================  =========================================================

:func:`settle_notifications` computes this for many notifications with one
aggregate query and stores it; the API calls it for the notifications it
reads, and a sender may call it once per batch for the notifications the
batch touched. Skipped deliveries count for neither sent nor failed.

Cost: the aggregate reads every delivery of the notifications asked about
(through the index on ``notification_id``): nothing for an individual
notification, but a whole mailing's rows for a mailing. A caller in a hot
loop settles individual notifications per batch and a mailing at most every
few seconds (or once its last page was sent).
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Subquery, case, func, select, update
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState, Mailing, MailingState, Notification, NotificationStatus

_UNFINISHED = (DeliveryState.pending, DeliveryState.sending)
#: The statuses a settle (re)computes: a replayed delivery may turn a ``failed`` notification ``sent``.
SETTLEABLE = (
    NotificationStatus.processing,
    NotificationStatus.sent,
    NotificationStatus.partially_sent,
    NotificationStatus.failed,
    NotificationStatus.skipped,
)


@dataclass(frozen=True)
class DeliveryTally:
    """A notification's deliveries counted by outcome, and how many it will have at least."""

    rows: int
    unfinished: int
    sent: int
    failed: int
    expected: int

    @property
    def final_status(self) -> str | None:
        """The notification's final status, or ``None`` while a delivery is to come or unfinished."""
        if self.unfinished or self.rows < self.expected:
            return None
        if self.sent:
            return NotificationStatus.partially_sent if self.failed else NotificationStatus.sent
        return NotificationStatus.failed if self.failed else NotificationStatus.skipped


def _count_in(*states: str) -> ColumnElement[int]:
    """How many of the group's deliveries are in one of ``states``."""
    return func.sum(case((Delivery.state.in_(states), 1), else_=0))


def _counts(notification_ids: Collection[str]) -> Subquery:
    return (
        select(
            Delivery.notification_id,
            func.count().label('rows'),
            _count_in(*_UNFINISHED).label('unfinished'),
            _count_in(DeliveryState.sent).label('sent'),
            _count_in(DeliveryState.failed).label('failed'),
        )
        .where(Delivery.notification_id.in_(notification_ids))
        .group_by(Delivery.notification_id)
        .subquery()
    )


def _tally(found: Row[Any]) -> DeliveryTally | None:
    """A row of :func:`tallies`' query as a tally; ``None`` for a mailing still being expanded."""
    if found.mailing_state is not None and found.mailing_state != MailingState.expanded:
        return None
    recipients = 1 if found.mailing_state is None else int(found.expanded)
    return DeliveryTally(
        rows=int(found.rows or 0),
        unfinished=int(found.unfinished or 0),
        sent=int(found.sent or 0),
        failed=int(found.failed or 0),
        expected=recipients * len(found.channels),
    )


def tallies(session: Session, notification_ids: Collection[str]) -> dict[str, DeliveryTally]:
    """The delivery tally of each of these notifications that is processing or settled (one aggregate query)."""
    if not notification_ids:
        return {}
    counts = _counts(notification_ids)
    found = session.execute(
        select(
            Notification.id, Notification.channels, Mailing.state.label('mailing_state'), Mailing.expanded,
            counts.c.rows, counts.c.unfinished, counts.c.sent, counts.c.failed,
        )
        .outerjoin(Mailing, Mailing.notification_id == Notification.id)
        .outerjoin(counts, counts.c.notification_id == Notification.id)
        .where(Notification.id.in_(notification_ids), Notification.status.in_(SETTLEABLE)),
    ).all()
    tallied = {row.id: _tally(row) for row in found}
    return {notification_id: tally for notification_id, tally in tallied.items() if tally is not None}


def settle_notifications(session: Session, notification_ids: Collection[str]) -> Mapping[str, str]:
    """Store the final status of each of these notifications whose deliveries are all final.

    Only notifications still processing or settled change (a compare-and-set,
    so a concurrent settle or cancel is harmless); a settled one whose
    delivery was replayed since takes its new status. Returns the final
    status of each settled notification, by id. The caller commits.
    """
    settled = {
        notification_id: status
        for notification_id, tally in tallies(session, notification_ids).items()
        if (status := tally.final_status) is not None
    }
    for status in set(settled.values()):
        session.execute(
            update(Notification)
            .where(
                Notification.id.in_([key for key, settled_status in settled.items() if settled_status == status]),
                Notification.status.in_(SETTLEABLE),
                Notification.status != status,
            )
            .values(status=status)
            .execution_options(synchronize_session='fetch'),
        )
    return settled
