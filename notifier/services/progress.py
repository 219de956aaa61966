"""How far a mailing is: deliveries by state, skip reasons, send rate and ETA (a few grouped queries)."""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifier.models import Delivery, DeliveryState, Mailing

#: The window over which the send rate (and so the ETA) is measured.
RATE_WINDOW = dt.timedelta(seconds=60)


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
