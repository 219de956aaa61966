"""A periodic event (``meta.periodic: true``) becomes the schedule that repeats it.

The schedule is the one ``POST /api/v1/schedules`` would make: ``meta.cron``
in ``meta.timezone`` (UTC by default) or ``meta.interval_seconds``, from
``meta.scheduled_at`` (or from now); the event's type, template, locale,
channels and fields; its recipient or audience as the schedule's audience.
Each fire is sent at once, whatever the event's urgency. An Idempotency-Key
makes a retry answer the same schedule; the same key with another body is a
conflict, as for notifications.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifier.implied_audiences import implied_audience
from notifier.models import Schedule
from notifier.models.base import utcnow
from notifier.schemas.schedules import ScheduleSchema, check_timing
from notifier.services.accept import request_hash, same_request
from notifier.services.bulk_fires import KIND, SEGMENT, USER_IDS, USERS_KIND
from notifier.services.schedules import ScheduleNameTakenError, create_schedule

DEFAULT_TIMEZONE = 'UTC'
#: An event's bulk audience (its one key) -> the kind of schedule audience that names the same recipients.
_SCHEDULE_KINDS: Mapping[str, str] = MappingProxyType({'emails': 'list', USER_IDS: USERS_KIND, SEGMENT: SEGMENT})


@dataclass(frozen=True)
class ScheduledEvent:
    """The schedule a periodic event made, and whether it is new (or the replay of a retried request)."""

    schedule: Schedule
    created: bool


def _bulk_audience(event: Mapping[str, Any]) -> dict[str, Any]:
    event_fields: Mapping[str, Any] = event['event_fields']
    audience = event['meta']['audience'] or implied_audience(
        event['notification_type'], event_fields, event['content_id'],
    )
    listed_as, members = next(iter(audience.items()))  # exactly one (the events' schema says so)
    return {KIND: _SCHEDULE_KINDS[listed_as], listed_as: members}


def schedule_audience(event: Mapping[str, Any]) -> dict[str, Any]:
    """Who each fire goes to: the event's address, its user, or its (explicit or implied) bulk audience."""
    meta = event['meta']
    if meta['scale'] == 'bulk':
        return _bulk_audience(event)
    event_fields: Mapping[str, Any] = event['event_fields']
    email = meta['email'] or event_fields.get('email')
    if email:
        return {KIND: 'user', 'email': email}
    user_id = meta['user_id'] or str(event_fields['user_id'])
    return {KIND: USERS_KIND, USER_IDS: [user_id]}


def schedule_request(event: Mapping[str, Any]) -> dict[str, Any]:
    """The schedule a loaded periodic event asks for, as ``POST /api/v1/schedules`` takes it (to validate alike)."""
    meta = event['meta']
    event_fields: Mapping[str, Any] = event['event_fields']
    start_at: dt.datetime | None = meta['scheduled_at']
    optional = {
        'cron': meta['cron'],
        'interval_seconds': meta['interval_seconds'],
        'template': event['custom_template'],
        'locale': meta['locale'],
        'start_at': None if start_at is None else start_at.isoformat(),
    }
    request = {
        'name': 'event-{0}'.format(uuid.uuid4().hex),
        'type': event['notification_type'],
        'audience': schedule_audience(event),
        'fields': dict(event_fields),
        'channels': list(dict.fromkeys(event['channels'])),
        'timezone': meta['timezone'] or DEFAULT_TIMEZONE,
    }
    request.update({name: given for name, given in optional.items() if given is not None})
    return request


def _replayed(session: Session, idempotency_key: str, body_hash: str) -> ScheduledEvent:
    schedule = session.scalars(select(Schedule).where(Schedule.idempotency_key == idempotency_key)).one()
    same_request(schedule.request_hash, body_hash, idempotency_key)
    return ScheduledEvent(schedule, created=False)


def accept_periodic_event(
    session: Session,
    event: Mapping[str, Any],
    raw_body: Any,
    idempotency_key: str | None,
    now: dt.datetime | None = None,
) -> ScheduledEvent:
    """Store the schedule of a loaded periodic event, or answer the first one again for its key.

    Raises :class:`marshmallow.ValidationError` when the schedules' schema
    refuses what the event asks for (e.g. a list of more than 1,000 addresses).
    """
    body_hash = request_hash(raw_body)
    if idempotency_key is not None:
        known = session.scalar(select(Schedule.id).where(Schedule.idempotency_key == idempotency_key))
        if known is not None:
            return _replayed(session, idempotency_key, body_hash)
    loaded = ScheduleSchema().load(schedule_request(event))
    check_timing(loaded)
    keyed = {**loaded, 'idempotency_key': idempotency_key, 'request_hash': body_hash}
    try:
        schedule = create_schedule(session, keyed, now or utcnow())
    except ScheduleNameTakenError:  # the names are random: a concurrent request with this key won
        if idempotency_key is None:
            raise
        return _replayed(session, idempotency_key, body_hash)
    return ScheduledEvent(schedule, created=True)
