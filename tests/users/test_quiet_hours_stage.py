"""Quiet hours in the generator with a fixed clock: a service mail waits, a transactional one does not."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from notifier.extensions import db
from notifier.models import Notification, User
from notifier.pipeline.context import StageContext
from notifier.pipeline.generator import generate
from notifier.pipeline.outcomes import Done
from notifier.preferences.store import write_preferences
from notifier.services.accept import Intake, accept_event
from notifier.templating.store import TemplateStore
from tests.users.user_events import event_for_user

UTC = dt.timezone.utc
#: 23:30 in Vladivostok (UTC+10), already the 28th there; the quiet hours end at 08:00 local = 22:00 UTC on the 27th.
LATE_EVENING = dt.datetime(2026, 11, 27, 13, 30, tzinfo=UTC)
QUIET_ENDS = dt.datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
NIGHT = {'quiet_hours': {'start': '22:00', 'end': '08:00'}, 'opted_out': False}


def _context(clock: Callable[[], dt.datetime]) -> StageContext:
    return StageContext(
        session=db.session(), templates=TemplateStore(Path('templates'), 'ru'), channels={}, clock=clock,
    )


def _accept(notification_type: str) -> str:
    event = event_for_user('u-vlad', notification_type, name='Влад', show='Тьма')
    return accept_event(db.session(), event, {'type': notification_type}, None, Intake('ru')).notification.id


def test_a_service_mail_waits_for_the_end_of_the_quiet_hours_in_the_users_time_zone(users_app: Flask) -> None:
    with users_app.app_context():
        db.session.add(User(id='u-vlad', email='vlad@example.com', name='Влад', time_zone='Asia/Vladivostok'))
        db.session.commit()
        write_preferences(db.session(), 'user:u-vlad', NIGHT)
        service_id = _accept('show_subs')
        welcome_id = _accept('welcome')

        held = generate({'notification_id': service_id}, _context(lambda: LATE_EVENING))
        urgent = generate({'notification_id': welcome_id}, _context(lambda: LATE_EVENING))
        waiting = db.session.get_one(Notification, service_id)
        status, scheduled_at = waiting.status, waiting.scheduled_at
        just_before = QUIET_ENDS - dt.timedelta(minutes=1)
        copy_meanwhile = generate({'notification_id': service_id}, _context(lambda: just_before))
        waiting.status = 'queued'  # what the scheduler does when it is due
        db.session.commit()
        released = generate({'notification_id': service_id}, _context(lambda: QUIET_ENDS))

    assert held == Done()
    assert (status, scheduled_at) == ('scheduled', QUIET_ENDS)
    assert copy_meanwhile == Done()
    assert isinstance(urgent, Done) and len(urgent.forward) == 1
    assert isinstance(released, Done) and len(released.forward) == 1
    worker_body = released.forward[0].body
    assert worker_body['email'] == 'vlad@example.com'
    assert worker_body['fields']['name'] == 'Влад'
