"""A mailing's progress as the panel shows it: the polled JSON, and the rows of the mailings list."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from notifier.extensions import db
from notifier.models import DeliveryState, Mailing, Notification
from notifier.models.base import utcnow
from notifier.services.audiences import describe_audience
from notifier.services.mailing_plans import audience_of
from notifier.services.progress import Progress, completion, counts_by_mailing, is_finished, progress, reason_kind

LIST_LIMIT: Final = 200


@dataclass(frozen=True)
class MailingRow:
    """One line of the mailings list."""

    mailing: Mailing
    notification: Notification
    report: Progress

    @property
    def percent(self) -> float:
        """How far it is."""
        return completion(self.report, len(self.notification.channels))

    @property
    def audience(self) -> str:
        """Whom it goes to, in words."""
        return describe_audience(audience_of(self.mailing))


def progress_json(report: Progress, channel_count: int) -> dict[str, Any]:
    """What the progress page polls: counts by state, skip reasons, rate, ETA, percent, and whether it is over."""
    reasons: dict[str, int] = {}
    for reason, count in report.skipped_reasons.items():
        kind = reason_kind(reason)
        reasons[kind] = reasons.get(kind, 0) + count
    return {
        'state': report.state,
        'total': report.total,
        'expanded': report.expanded,
        'queued': report.queued,
        'sent': report.counts.get(DeliveryState.sent, 0),
        'skipped': report.counts.get(DeliveryState.skipped, 0),
        'failed': report.counts.get(DeliveryState.failed, 0),
        'retrying': report.retrying,
        'skipped_reasons': reasons,
        'per_second': round(report.per_second, 2),
        'eta_seconds': None if report.eta_seconds is None else round(report.eta_seconds),
        'percent': round(completion(report, channel_count), 1),
        'finished': is_finished(report, channel_count),
    }


def progress_of(mailing: Mailing, channel_count: int) -> dict[str, Any]:
    """A mailing's progress now, as the page polls it."""
    return progress_json(progress(db.session(), mailing, utcnow()), channel_count)


def mailing_rows() -> list[MailingRow]:
    """The newest mailings (drafts too), their deliveries counted in one query."""
    newest = db.session.execute(
        select(Mailing, Notification)
        .join(Notification, Notification.id == Mailing.notification_id)
        .order_by(Mailing.started_at.desc())
        .limit(LIST_LIMIT),
    ).all()
    notification_ids = [mailing.notification_id for mailing, _notification in newest]
    counts: Mapping[str, Mapping[str, int]] = counts_by_mailing(db.session(), notification_ids)
    return [
        MailingRow(mailing, notification, Progress(
            notification_id=mailing.notification_id,
            state=mailing.state,
            total=mailing.total,
            expanded=mailing.expanded,
            counts=counts.get(mailing.notification_id, {}),
            retrying=0,
        ))
        for mailing, notification in newest
    ]
