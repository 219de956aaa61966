"""A schedule that cannot fire never stops the scheduler: it is set aside with its reason, the others go on."""

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import func, insert, select

from notifier.cli.main import cli
from notifier.extensions import db
from notifier.models import Notification, NotificationStatus, Occurrence, Schedule
from notifier.scheduler.firing import recipient_key
from notifier.scheduler.run_now import AlreadyFiredError, fire_now
from notifier.scheduler import schedules_pass
from tests.integration.schedule_passes import T0, make_schedule, tick
from tests.plugins.app import AUTH

MINUTE = dt.timedelta(seconds=60)
#: A valid address of 198 characters: the local part and each domain label at their limits.
LONG_ADDRESS = '{0}@{1}.{2}.example.com'.format('a' * 64, 'b' * 60, 'c' * 60)


def _schedule(app: Flask, name: str, **overrides: Any) -> str:
    return make_schedule(app, name, ['{0}@example.com'.format(name)], **overrides)


def _tick(app: Flask, now: dt.datetime) -> int:
    return tick(app, now)


def _occurrences(app: Flask, schedule_id: str) -> list[tuple[dt.datetime, str, str | None]]:
    with app.app_context():
        found = db.session.execute(
            select(Occurrence.fire_at, Occurrence.state, Occurrence.reason)
            .where(Occurrence.schedule_id == schedule_id)
            .order_by(Occurrence.fire_at),
        ).all()
        return [(fire_at, state, reason) for fire_at, state, reason in found]


def _recipients(app: Flask, schedule_id: str) -> list[str]:
    with app.app_context():
        found = db.session.scalars(
            select(Notification.recipient_email)
            .join(Occurrence, Occurrence.id == Notification.occurrence_id)
            .where(Occurrence.schedule_id == schedule_id)
            .order_by(Notification.recipient_email),
        ).all()
        return [str(email) for email in found]


def _schedule_row(app: Flask, schedule_id: str) -> Schedule:
    with app.app_context():
        found = db.session.get(Schedule, schedule_id)
        assert found is not None
        db.session.expunge(found)
        return found


def _due_notification(app: Flask) -> str:
    """A delayed notification due at T0 + 30 s, waiting for the scheduler to release it."""
    with app.app_context():
        waiting = Notification(
            request_hash='test', type='info', urgency='immediate', scale='individual', template='info', locale='ru',
            channels=['email'], recipient_email='later@example.com', fields={'title': 't', 'text': 'x'},
            scheduled_at=T0 + dt.timedelta(seconds=30), status=NotificationStatus.scheduled,
        )
        db.session.add(waiting)
        db.session.commit()
        return waiting.id


def _status(app: Flask, notification_id: str) -> str:
    with app.app_context():
        return str(db.session.scalar(select(Notification.status).where(Notification.id == notification_id)))


def test_a_long_address_fires_and_the_other_schedules_and_releases_go_on(app: Flask) -> None:
    long_one = _schedule(app, 'long', audience={'kind': 'list', 'emails': [LONG_ADDRESS, 'short@example.com']})
    other = _schedule(app, 'other')
    released = _due_notification(app)

    assert _tick(app, T0 + MINUTE) == 4  # two for the long list, one for the other, one released

    assert _recipients(app, long_one) == [LONG_ADDRESS, 'short@example.com']
    assert _recipients(app, other) == ['other@example.com']
    assert _status(app, released) == NotificationStatus.queued
    assert _schedule_row(app, long_one).next_fire_at == T0 + 2 * MINUTE


def test_a_schedule_that_cannot_fire_is_set_aside_with_its_reason(
    app: Flask, caplog: pytest.LogCaptureFixture,
) -> None:
    broken = _schedule(app, 'broken', notification_type='retired-type')  # a type the code no longer knows
    other = _schedule(app, 'other')
    released = _due_notification(app)

    with caplog.at_level(logging.INFO, logger='notifier.scheduler'):
        assert _tick(app, T0 + MINUTE) == 2
    assert _tick(app, T0 + 2 * MINUTE) == 1  # the broken one does not come back in front of the others

    reason = "unknown notification type 'retired-type'"
    assert _occurrences(app, broken) == [(T0 + MINUTE, 'failed', reason), (T0 + 2 * MINUTE, 'failed', reason)]
    assert _recipients(app, other) == ['other@example.com', 'other@example.com']
    assert _status(app, released) == NotificationStatus.queued
    row = _schedule_row(app, broken)
    assert (row.next_fire_at, row.failure, row.failed_at) == (T0 + 3 * MINUTE, reason, T0 + 2 * MINUTE)
    assert any(
        record.levelno == logging.ERROR and 'broken' in record.getMessage() and reason in record.getMessage()
        for record in caplog.records
    )
    shown = app.test_client().get('/api/v1/schedules/{0}'.format(broken), headers=AUTH).json
    assert (shown['failure'], shown['failed_at']) == (reason, (T0 + 2 * MINUTE).isoformat())
    assert shown['recent_occurrences'][0]['state'] == 'failed'
    listed = CliRunner().invoke(cli, ['schedules', 'list'], obj=ScriptInfo(create_app=lambda: app))
    assert 'FAILING: {0}'.format(reason) in listed.output
    shown_by_cli = CliRunner().invoke(cli, ['schedules', 'show', 'broken'], obj=ScriptInfo(create_app=lambda: app))
    assert 'failure:     {0}'.format(reason) in shown_by_cli.output


def test_a_later_successful_fire_clears_the_failure(app: Flask) -> None:
    broken = _schedule(app, 'broken', notification_type='retired-type')
    _tick(app, T0 + MINUTE)
    with app.app_context():
        db.session.get(Schedule, broken).type = 'info'  # the operator fixed it
        db.session.commit()

    assert _tick(app, T0 + 2 * MINUTE) == 1

    row = _schedule_row(app, broken)
    assert (row.failure, row.failed_at) == (None, None)


def test_an_integrity_error_that_is_not_a_race_is_recorded_not_retried_for_ever(
    app: Flask, caplog: pytest.LogCaptureFixture,
) -> None:
    clashing = _schedule(app, 'clashing')
    other = _schedule(app, 'other')
    with app.app_context():  # a client chose, as its Idempotency-Key, the key of that fire
        db.session.add(Notification(
            idempotency_key=recipient_key(clashing, T0 + MINUTE, 'clashing@example.com'),
            request_hash='client', type='info', urgency='immediate', scale='individual', template='info',
            locale='ru', channels=['email'], recipient_email='clashing@example.com', fields={},
        ))
        db.session.commit()

    with caplog.at_level(logging.INFO, logger='notifier.scheduler'):
        assert _tick(app, T0 + MINUTE) == 1

    recorded = _occurrences(app, clashing)
    assert len(recorded) == 1
    fire_at, state, reason = recorded[0]
    assert (fire_at, state) == (T0 + MINUTE, 'failed')
    assert reason is not None and reason.startswith('IntegrityError')
    assert _schedule_row(app, clashing).next_fire_at == T0 + 2 * MINUTE
    assert _recipients(app, other) == ['other@example.com']
    assert not any('fired this occurrence first' in record.getMessage() for record in caplog.records)


def test_a_list_naming_one_address_twice_fires_once_to_it(app: Flask) -> None:
    twice = _schedule(app, 'twice', audience={'kind': 'list', 'emails': [
        'a@example.com', 'b@example.com', 'a@example.com', 'a@EXAMPLE.com',
    ]})

    assert _tick(app, T0 + MINUTE) == 2
    assert _tick(app, T0 + 2 * MINUTE) == 2

    assert _recipients(app, twice) == ['a@example.com', 'a@example.com', 'b@example.com', 'b@example.com']
    assert [state for _, state, _ in _occurrences(app, twice)] == ['fired', 'fired']


def test_run_now_in_the_second_of_a_due_fire_does_not_stop_the_schedule(app: Flask) -> None:
    digest = _schedule(app, 'digest')
    with app.app_context():
        assert fire_now(db.session(), db.session.get(Schedule, digest), T0 + MINUTE) == 1

    assert _tick(app, T0 + MINUTE) == 0  # that second fired already: nothing more, and the schedule moves on
    assert _schedule_row(app, digest).next_fire_at == T0 + 2 * MINUTE
    assert _tick(app, T0 + 2 * MINUTE) == 1

    assert [fire_at for fire_at, _, _ in _occurrences(app, digest)] == [T0 + MINUTE, T0 + 2 * MINUTE]
    assert _recipients(app, digest) == ['digest@example.com', 'digest@example.com']


def test_run_now_after_the_scheduler_fired_that_second_says_so_and_sends_nothing_more(app: Flask) -> None:
    digest = _schedule(app, 'digest')
    _tick(app, T0 + MINUTE)

    with app.app_context():
        with pytest.raises(AlreadyFiredError, match='already fired at 2026-05-01T12:01:00'):
            fire_now(db.session(), db.session.get(Schedule, digest), T0 + MINUTE + dt.timedelta(milliseconds=300))

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


class _RecordedMeanwhile:
    """Fires a schedule after another writer (run-now, say) recorded the same second on its own connection."""

    def __init__(self, fire_schedule: Callable[..., list[int]]) -> None:
        self._fire_schedule = fire_schedule

    def __call__(self, session: Any, schedule: Schedule, plan: Any) -> list[int]:
        with db.engine.begin() as elsewhere:
            elsewhere.execute(insert(Occurrence).values(
                schedule_id=schedule.id, fire_at=T0 + MINUTE, state='fired', notifications=0, created_at=T0,
            ))
        return self._fire_schedule(session, schedule, plan)


def test_a_fire_time_recorded_meanwhile_is_a_race_not_a_failure(
    app: Flask, database_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    if not database_url.startswith('sqlite'):
        pytest.skip('on PostgreSQL the row lock makes a writer inserting an occurrence wait (its foreign key)')
    digest = _schedule(app, 'digest')
    real_fire_schedule = schedules_pass.fire_schedule

    monkeypatch.setattr(schedules_pass, 'fire_schedule', _RecordedMeanwhile(real_fire_schedule))
    with caplog.at_level(logging.INFO, logger='notifier.scheduler'):
        assert _tick(app, T0 + MINUTE) == 0
    monkeypatch.setattr(schedules_pass, 'fire_schedule', real_fire_schedule)

    assert any('fired this occurrence first' in record.getMessage() for record in caplog.records)
    assert _tick(app, T0 + MINUTE + dt.timedelta(seconds=1)) == 0  # the next pass leaves that second out...
    row = _schedule_row(app, digest)
    assert (row.next_fire_at, row.failure) == (T0 + 2 * MINUTE, None)  # ...and moves on, nothing set aside
    assert [state for _, state, _ in _occurrences(app, digest)] == ['fired']
