"""How far a mailing is: deliveries by state, skip reasons, send rate and ETA (a few grouped queries)."""

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState, Mailing, MailingState

#: The window over which the send rate (and so the ETA) is measured.
RATE_WINDOW = dt.timedelta(seconds=60)
FULL = 100.0
#: The user a skip reason names ("user 42 has no phone number"), left out to count such reasons together.
_NAMED_USER = re.compile(r'^user \S+ (?=has no |does not exist)')


@dataclass(frozen=True)
class Progress:
    """Where a mailing is: counts by delivery state, skip reasons, rate and ETA."""

    notification_id: str
    state: str
    total: int | None
    expanded: int
    counts: Mapping[str, int]
    retrying: int
    skipped_reasons: Mapping[str, int] = field(default_factory=dict)
    per_second: float = 0
    eta_seconds: float | None = None

    @property
    def done(self) -> int:
        """Deliveries that reached a final state."""
        final = (DeliveryState.sent, DeliveryState.failed, DeliveryState.skipped)
        return sum(self.counts.get(state, 0) for state in final)

    @property
    def queued(self) -> int:
        """Deliveries waiting to be sent (or being sent)."""
        return self.counts.get(DeliveryState.pending, 0) + self.counts.get(DeliveryState.sending, 0)


def _by_state(session: Session, notification_id: str) -> dict[str, int]:
    grouped = session.execute(
        select(Delivery.state, func.count())
        .where(Delivery.notification_id == notification_id)
        .group_by(Delivery.state),
    ).all()
    return {str(state): int(count) for state, count in grouped}


def _skip_reasons(session: Session, notification_id: str) -> dict[str, int]:
    grouped = session.execute(
        select(Delivery.last_error, func.count())
        .where(Delivery.notification_id == notification_id, Delivery.state == DeliveryState.skipped)
        .group_by(Delivery.last_error),
    ).all()
    return {str(reason or 'unknown'): int(count) for reason, count in grouped}


def _count(session: Session, *conditions: Any) -> int:
    query = select(func.count()).select_from(Delivery)
    counted = session.scalar(query.where(*conditions))
    return int(counted or 0)


def progress(session: Session, mailing: Mailing, now: dt.datetime) -> Progress:
    """Count the mailing's deliveries by state (grouped queries) and estimate the rest."""
    notification_id = mailing.notification_id
    of_mailing = Delivery.notification_id == notification_id
    pending = Delivery.state == DeliveryState.pending
    retrying = _count(session, of_mailing, pending, Delivery.attempts > 0)
    recently_sent = (Delivery.state == DeliveryState.sent) & (Delivery.sent_at >= now - RATE_WINDOW)
    recent = _count(session, of_mailing, recently_sent)
    report = Progress(
        notification_id=notification_id,
        state=mailing.state,
        total=mailing.total,
        expanded=mailing.expanded,
        counts=_by_state(session, notification_id),
        retrying=retrying,
        skipped_reasons=_skip_reasons(session, notification_id),
        per_second=recent / RATE_WINDOW.total_seconds(),
    )
    remaining = (report.total or report.expanded) - report.done
    if report.per_second <= 0 or remaining <= 0:
        return report
    return replace(report, eta_seconds=remaining / report.per_second)


def reason_kind(reason: str) -> str:
    """A skip reason without the user it names, so that alike reasons count together.

    ``user 42 has no phone number`` becomes ``user has no phone number``.
    """
    return _NAMED_USER.sub('user ', reason)


def expected_deliveries(report: Progress, channel_count: int) -> int:
    """The deliveries a mailing ends with: one per recipient and channel, more for users with several devices."""
    audience = report.total if report.total is not None else report.expanded
    return max(audience * channel_count, sum(report.counts.values()))


def is_finished(report: Progress, channel_count: int) -> bool:
    """Nothing more will happen: every recipient queued and every delivery final (or the mailing cancelled)."""
    if report.queued:
        return False
    if report.state == MailingState.cancelled:
        return True
    return report.state == MailingState.expanded and report.done >= expected_deliveries(report, channel_count)


def completion(report: Progress, channel_count: int) -> float:
    """How far the mailing is, in percent of its expected deliveries."""
    expected = expected_deliveries(report, channel_count)
    if not expected:
        return FULL if is_finished(report, channel_count) else 0
    return min(FULL, FULL * report.done / expected)


def counts_by_mailing(session: Session, notification_ids: Collection[str]) -> dict[str, dict[str, int]]:
    """Deliveries by state of many mailings, in one grouped query (for lists)."""
    grouped = session.execute(
        select(Delivery.notification_id, Delivery.state, func.count())
        .where(Delivery.notification_id.in_(notification_ids))
        .group_by(Delivery.notification_id, Delivery.state),
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for notification_id, state, count in grouped:
        counts.setdefault(str(notification_id), {})[str(state)] = int(count)
    return counts
