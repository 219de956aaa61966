"""How schedules look in API answers."""

from typing import Any

from sqlalchemy import select

from notifier.extensions import db
from notifier.models import Occurrence, Schedule

RECENT_OCCURRENCES = 10


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def schedule_view(schedule: Schedule) -> dict[str, Any]:
    """A schedule with its recent occurrences."""
    recent = db.session.scalars(
        select(Occurrence)
        .where(Occurrence.schedule_id == schedule.id)
        .order_by(Occurrence.fire_at.desc())
        .limit(RECENT_OCCURRENCES),
    ).all()
    return {
        'id': schedule.id,
        'name': schedule.name,
        'cron': schedule.cron,
        'interval_seconds': schedule.interval_seconds,
        'timezone': schedule.timezone,
        'type': schedule.type,
        'template': schedule.template,
        'locale': schedule.locale,
        'channels': schedule.channels,
        'audience': schedule.audience,
        'fields': schedule.fields,
        'misfire_policy': schedule.misfire_policy,
        'max_lateness_seconds': schedule.max_lateness_seconds,
        'start_at': _iso(schedule.start_at),
        'end_at': _iso(schedule.end_at),
        'enabled': schedule.enabled,
        'next_fire_at': _iso(schedule.next_fire_at),
        'failure': schedule.failure,
        'failed_at': _iso(schedule.failed_at),
        'recent_occurrences': [
            {
                'fire_at': _iso(occurrence.fire_at),
                'state': occurrence.state,
                'reason': occurrence.reason,
                'notifications': occurrence.notifications,
            }
            for occurrence in recent
        ],
    }
