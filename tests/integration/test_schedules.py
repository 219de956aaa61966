"""Schedules: the API, exactly one fire per occurrence, misfire after downtime, and cancel."""

import datetime as dt
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from notifier.app import create_app
from notifier.errors import StartupError
from notifier.extensions import db
from notifier.models import Notification, Occurrence, OutboxMessage, Schedule, User
from notifier.scheduler.lock import single_scheduler_on_sqlite
from notifier.scheduler.loop import SchedulerLoop
from notifier.settings import settings_of
from tests.integration import queries
from tests.integration.schedule_passes import T0, UTC, make_schedule, tick
from tests.plugins.app import AUTH, make_settings, running_consumers, wait_for

DIGEST = {
    'name': 'digest',
    'interval_seconds': 60,
    'type': 'info',
    'audience': {'kind': 'list', 'emails': ['a@example.com', 'b@example.com']},
    'fields': {'title': 'Дайджест', 'text': 'Новинки недели'},
}


def _schedule(app: Flask, **overrides: Any) -> str:
    return make_schedule(app, 'digest', ['a@example.com', 'b@example.com'], **overrides)


def _tick(app: Flask, now: dt.datetime) -> int:
    return tick(app, now)


def _occurrences(app: Flask, state: str | None = None) -> list[dt.datetime]:
    with app.app_context():
        query = select(Occurrence.fire_at).order_by(Occurrence.fire_at)
        if state:
            query = query.where(Occurrence.state == state)
        return list(db.session.scalars(query).all())


def _notification_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Notification)) or 0)


def test_create_read_change_delete(app: Flask) -> None:
    client = app.test_client()

    created = client.post('/api/v1/schedules', json={**DIGEST, 'interval_seconds': None, 'cron': '0 9 * * 1',
                                                     'timezone': 'Europe/Moscow'}, headers=AUTH)
    assert created.status_code == 201, created.json
    schedule = created.json
    assert schedule['next_fire_at'].endswith('06:00:00+00:00')
    assert client.get('/api/v1/schedules/{0}'.format(schedule['id']), headers=AUTH).json['name'] == 'digest'

    changed = client.patch('/api/v1/schedules/{0}'.format(schedule['id']), json={'enabled': False}, headers=AUTH)
    assert (changed.json['enabled'], changed.json['next_fire_at']) == (False, None)

    assert client.post('/api/v1/schedules', json=DIGEST, headers=AUTH).status_code == 409
    assert client.delete('/api/v1/schedules/{0}'.format(schedule['id']), headers=AUTH).status_code == 204
    assert client.get('/api/v1/schedules', headers=AUTH).json == {'items': []}


@pytest.mark.parametrize(('change', 'field'), [
    ({'cron': 'every day'}, 'cron'),
    ({'cron': '0 9 * * *'}, 'cron'),
    ({'interval_seconds': None}, 'cron'),
    ({'timezone': 'Mars/Olympus'}, 'timezone'),
    ({'audience': {'kind': 'users'}}, 'audience'),
    ({'audience': {'kind': 'segment', 'segment': ''}}, 'audience'),
    ({'misfire_policy': 'sometimes'}, 'misfire_policy'),
])
def test_invalid_schedules_are_422_with_the_field(app: Flask, change: dict[str, Any], field: str) -> None:
    response = app.test_client().post('/api/v1/schedules', json={**DIGEST, **change}, headers=AUTH)

    assert response.status_code == 422
    assert field in response.json['error']['fields']


def test_a_patched_audience_without_its_kind_is_a_422(app: Flask) -> None:
    client = app.test_client()
    schedule_id = client.post('/api/v1/schedules', json=DIGEST, headers=AUTH).json['id']

    response = client.patch('/api/v1/schedules/{0}'.format(schedule_id), json={'audience': {}}, headers=AUTH)

    assert response.status_code == 422
    assert response.json['error']['fields'] == {'audience': {'kind': ['Missing data for required field.']}}


def test_each_occurrence_fires_once_however_often_the_scheduler_looks(app: Flask) -> None:
    _schedule(app)

    assert _tick(app, T0 + dt.timedelta(seconds=30)) == 0
    assert _tick(app, T0 + dt.timedelta(seconds=60)) == 2
    assert _tick(app, T0 + dt.timedelta(seconds=61)) == 0
    assert _tick(app, T0 + dt.timedelta(seconds=120)) == 2

    assert _occurrences(app) == [T0 + dt.timedelta(seconds=60), T0 + dt.timedelta(seconds=120)]
    assert _notification_count(app) == 4


@pytest.mark.parametrize(('policy', 'fired', 'skipped'), [
    ('fire_once', 1, 59),
    ('fire_all', 60, 0),
    ('skip', 0, 60),
])
def test_after_an_hour_down_the_misfire_policy_decides(app: Flask, policy: str, fired: int, skipped: int) -> None:
    _schedule(app, misfire_policy=policy)

    _tick(app, T0 + dt.timedelta(hours=1, seconds=40))

    assert len(_occurrences(app, 'fired')) == fired
    assert len(_occurrences(app, 'skipped')) == skipped
    assert _notification_count(app) == fired * 2
    assert _tick(app, T0 + dt.timedelta(hours=1, seconds=60)) == 2  # then on time again


def test_a_daily_digest_due_two_days_ago_is_not_sent(app: Flask) -> None:
    _schedule(app, interval_seconds=86400, misfire_policy='fire_all', max_lateness_seconds=3600)

    _tick(app, T0 + dt.timedelta(days=2, hours=5))

    assert not _occurrences(app, 'fired')
    assert len(_occurrences(app, 'skipped')) == 2


def test_concurrent_schedulers_fire_each_occurrence_once(app: Flask, database_url: str) -> None:
    if database_url.startswith('sqlite'):
        pytest.skip('several schedulers need PostgreSQL; SQLite runs one (see the lock test)')
    _schedule(app, interval_seconds=1)
    moments = [T0 + dt.timedelta(seconds=second, milliseconds=milli) for second in range(1, 31) for milli in (0, 500)]

    threads = [threading.Thread(target=_ticks, args=(app, moments)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    fired = _occurrences(app, 'fired')
    assert fired == [T0 + dt.timedelta(seconds=second) for second in range(1, 31)]
    assert _notification_count(app) == 60


def _ticks(app: Flask, moments: list[dt.datetime]) -> None:
    for moment in moments:
        _tick(app, moment)


def test_a_second_scheduler_on_sqlite_is_refused(app: Flask, database_url: str) -> None:
    if not database_url.startswith('sqlite'):
        pytest.skip('PostgreSQL allows several schedulers')
    settings = settings_of(app)

    with single_scheduler_on_sqlite(settings):
        with pytest.raises(StartupError, match='another scheduler is running on the SQLite database'):
            with single_scheduler_on_sqlite(settings):
                pytest.fail('the second scheduler got the lock')


def test_a_scheduled_notification_can_be_cancelled_until_it_is_sent(smtp_app: Flask) -> None:
    client = smtp_app.test_client()
    later = (dt.datetime.now(UTC) + dt.timedelta(hours=1)).isoformat()
    body = {**queries.WELCOME, 'meta': {**queries.WELCOME['meta'], 'scheduled_at': later}}
    with running_consumers(smtp_app):
        accepted = queries.post_event(client, body).json
        wait_for(lambda: getattr(queries.notification(smtp_app, accepted['id']), 'status', None) == 'scheduled')
        cancelled = client.delete('/api/v1/notifications/{0}'.format(accepted['id']), headers=AUTH)
        assert cancelled.json == {'id': accepted['id'], 'status': 'cancelled'}

        sent = queries.post_event(client, queries.welcome_to('now@example.com')).json
        wait_for(lambda: queries.sent_delivery(smtp_app, sent['id']), what='the immediate mail')
        refused = client.post('/api/v1/notifications/{0}/cancel'.format(sent['id']), headers=AUTH)

    assert refused.status_code == 409
    assert refused.json['error']['code'] == 'not_cancellable'
    with smtp_app.app_context():
        assert db.session.get(Schedule, 'nope') is None
        assert not queries.deliveries_of(smtp_app, accepted['id'])


def test_the_scheduler_keeps_firing_while_the_broker_is_down(smtp_app: Flask, smtp_server: Any) -> None:
    settings = settings_of(smtp_app)
    cut_off = create_app(make_settings(
        settings.resolved_database_url, 'amqp://guest:guest@127.0.0.1:1/%2F', settings.instance_dir,
    ))
    _schedule(smtp_app, start_at=dt.datetime.now(UTC) - dt.timedelta(seconds=1), interval_seconds=3600)

    assert SchedulerLoop(cut_off).tick() == 0  # fired and stored; nothing published: the broker is down
    with smtp_app.app_context():
        unpublished = db.session.scalars(select(OutboxMessage).where(OutboxMessage.published_at.is_(None))).all()
        assert len(unpublished) == 2

    with running_consumers(smtp_app):  # the relay of any process publishes what waited
        wait_for(lambda: len(smtp_server.to('a@example.com')) == 1, what='the mail of the fire')
        wait_for(lambda: len(smtp_server.to('b@example.com')) == 1, what='the second mail of the fire')


def test_a_segment_schedule_makes_one_mailing_a_fire(smtp_app: Flask, smtp_server: Any) -> None:
    with smtp_app.app_context():
        db.session.add_all([
            User(id='reader{0}'.format(number), email='reader{0}@example.com'.format(number), name='Зритель')
            for number in range(3)
        ])
        db.session.commit()
    _schedule(smtp_app, audience={'kind': 'segment', 'segment': 'all'})

    assert _tick(smtp_app, T0 + dt.timedelta(seconds=60)) == 1
    assert _tick(smtp_app, T0 + dt.timedelta(seconds=61)) == 0
    with smtp_app.app_context():
        mailing = db.session.scalars(select(Notification)).one()
        assert (mailing.scale, mailing.periodic) == ('bulk', True)
        outbox = db.session.scalars(select(OutboxMessage)).one()
        announced = (outbox.routing_key, dict(outbox.payload))
    with running_consumers(smtp_app):
        queries.publish(smtp_app, *announced)
        wait_for(lambda: len(smtp_server.messages) == 3, what='a mail to each reader')

    assert sorted(mail['To'] for mail in smtp_server.messages) == [
        'reader0@example.com', 'reader1@example.com', 'reader2@example.com',
    ]
