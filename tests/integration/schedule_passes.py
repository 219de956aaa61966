"""Helpers of the scheduler tests: a schedule written as the API would, and one scheduler pass."""

import datetime as dt
from typing import Any

from flask import Flask

from notifier.extensions import db
from notifier.scheduler.passes import scheduler_pass
from notifier.services.schedules import create_schedule

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def make_schedule(app: Flask, name: str, emails: list[str], **overrides: Any) -> str:
    """An every-minute ``info`` schedule to ``emails`` from T0 (``overrides`` change any field); its id."""
    loaded = {
        'name': name, 'cron': None, 'interval_seconds': 60, 'timezone': 'UTC',
        'notification_type': 'info', 'template': None, 'locale': None, 'channels': ['email'],
        'audience': {'kind': 'list', 'emails': emails},
        'schedule_fields': {'title': 't', 'text': 'x'}, 'misfire_policy': 'fire_once',
        'max_lateness_seconds': None, 'start_at': T0, 'end_at': None, 'enabled': True,
    }
    loaded.update(overrides)
    with app.app_context():
        return create_schedule(db.session(), loaded, T0).id


def tick(app: Flask, now: dt.datetime) -> int:
    """One scheduler pass at ``now``; what it writes is published at once, not left to the relay."""
    published: list[str] = []
    with app.app_context():
        written = scheduler_pass(db.session(), now, lambda key, body, message_id, headers: published.append(message_id))
    assert len(published) == written
    return written
