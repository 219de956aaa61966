"""History search, and the operator's parking lot, queues and schedules, against the real database and RabbitMQ."""

import datetime as dt

from flask import Flask

from notifier.constants import PARK_REASON_HEADER, PARKED_BY_HEADER
from notifier.extensions import db
from notifier.models import Delivery, Notification, Schedule
from notifier.models.base import utcnow
from notifier.models.delivery import delivery_id_for
from notifier.pipeline import parking, topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.runner import ORIGINAL_ROUTING_KEY_HEADER
from notifier.settings import settings_of
from tests.admin.conftest import LoginAs, post_form


def _notification_with(flask_app: Flask, deliveries: list[tuple[str, str, str | None]]) -> str:
    """A notification and its deliveries: (recipient, state, last error)."""
    with flask_app.app_context():
        notification = Notification(
            request_hash='0' * 64, type='info', urgency='immediate', scale='bulk', template='info', locale='ru',
            channels=['email'], fields={'title': 'Новинки', 'text': 'Смотрите'},
        )
        db.session.add(notification)
        db.session.flush()
        for recipient, state, last_error in deliveries:
            db.session.add(Delivery(
                id=delivery_id_for(notification.id, recipient, 'email'), notification_id=notification.id,
                recipient=recipient, channel='email', state=state, last_error=last_error,
                attempts=3 if last_error else 1,
            ))
        db.session.commit()
        return notification.id


def test_history_finds_deliveries_by_recipient_notification_and_state(admin_app: Flask, login_as: LoginAs) -> None:
    first = _notification_with(admin_app, [
        ('vasya@example.com', 'sent', None), ('petya@example.com', 'failed', '550 5.1.1 no such user'),
    ])
    _notification_with(admin_app, [('vasya@example.com', 'skipped', 'opted out')])
    client = login_as('manager')

    by_recipient = client.get('/admin/history/?recipient=Vasya@Example.com').get_data(as_text=True)
    by_notification = client.get('/admin/history/?notification={0}'.format(first)).get_data(as_text=True)
    failed = client.get('/admin/history/?state=failed').get_data(as_text=True)

    assert '2 deliveries' in by_recipient
    assert 'petya@example.com' not in by_recipient
    assert '2 deliveries' in by_notification
    assert '1 delivery' in failed
    assert '550 5.1.1 no such user' in failed


def test_a_delivery_shows_its_attempts_and_last_error(admin_app: Flask, login_as: LoginAs) -> None:
    notification_id = _notification_with(admin_app, [('petya@example.com', 'failed', '550 5.1.1 no such user')])
    delivery_id = delivery_id_for(notification_id, 'petya@example.com', 'email')

    page = login_as('manager').get('/admin/history/delivery/{0}/'.format(delivery_id)).get_data(as_text=True)

    assert '<td id="delivery-state">failed</td>' in page
    assert '<td id="delivery-attempts">3</td>' in page
    assert '550 5.1.1 no such user' in page
    assert 'Новинки' in page


def test_a_delivery_shows_its_notifications_final_status(admin_app: Flask, login_as: LoginAs) -> None:
    with admin_app.app_context():
        notification = Notification(
            request_hash='0' * 64, type='welcome', urgency='immediate', scale='individual', template='welcome',
            locale='ru', channels=['email'], fields={'name': 'Петя'}, recipient_email='petya@example.com',
            status='processing',
        )
        db.session.add(notification)
        db.session.flush()
        delivery_id = delivery_id_for(notification.id, 'petya@example.com', 'email')
        db.session.add(Delivery(
            id=delivery_id, notification_id=notification.id, recipient='petya@example.com', channel='email',
            state='failed', last_error='550 5.1.1 no such user', attempts=1,
        ))
        db.session.commit()

    page = login_as('manager').get('/admin/history/delivery/{0}/'.format(delivery_id)).get_data(as_text=True)

    assert '<td id="notification-status">failed</td>' in page


def _park(flask_app: Flask, message_id: str, reason: str) -> None:
    settings = settings_of(flask_app)
    broker = BrokerConnection(settings.broker_url, 'test parking')
    broker.declare(topology.all_queues(['email'], settings.delivery_limit, settings.retry_delay_seconds))
    broker.publish(topology.PARKING_LOT, {'delivery_id': message_id}, message_id, {
        PARK_REASON_HEADER: reason, PARKED_BY_HEADER: 'sender', ORIGINAL_ROUTING_KEY_HEADER: 'channel.email',
    })
    broker.close()


def _depth(flask_app: Flask, queue: str) -> int:
    broker = BrokerConnection(settings_of(flask_app).broker_url, 'test depth')
    try:
        return broker.message_count(queue)
    finally:
        broker.close()


def test_an_operator_sees_the_parking_lot_and_requeues_one_message(admin_app: Flask, login_as: LoginAs) -> None:
    _park(admin_app, 'send:one', 'permanent failure: 550 no such user')
    _park(admin_app, 'send:two', 'gave up after 3 attempts: 451 try later')
    client = login_as('operator')

    page = client.get('/admin/operations/').get_data(as_text=True)
    shown = client.get('/admin/operations/parked/send:one').get_data(as_text=True)
    requeued = post_form(client, '/admin/operations/', '/admin/operations/requeue/', {'key': 'send:one'})
    after = client.get('/admin/operations/').get_data(as_text=True)

    assert '<span id="parked-total">2</span>' in page
    assert 'permanent failure: 550 no such user' in page
    assert 'channel.email' in shown
    assert requeued.status_code == 302
    assert 'Requeued 1 message(s).' in after
    assert '<span id="parked-total">1</span>' in after
    assert _depth(admin_app, topology.queue_name('channel.email')) == 1
    assert _depth(admin_app, parking.PARKING_QUEUE) == 1


def test_an_operator_requeues_all_then_purges(admin_app: Flask, login_as: LoginAs) -> None:
    _park(admin_app, 'send:one', 'permanent failure')
    _park(admin_app, 'send:two', 'permanent failure')
    client = login_as('operator')

    post_form(client, '/admin/operations/', '/admin/operations/requeue/', {'all': '1'})
    _park(admin_app, 'send:three', 'permanent failure')
    unconfirmed = post_form(client, '/admin/operations/', '/admin/operations/purge/', {'confirm': ''})
    post_form(client, '/admin/operations/', '/admin/operations/purge/', {'confirm': 'purge'})

    assert unconfirmed.status_code == 302
    assert _depth(admin_app, topology.queue_name('channel.email')) == 2
    assert _depth(admin_app, parking.PARKING_QUEUE) == 0
    assert 'Purged 1 message(s).' in client.get('/admin/operations/').get_data(as_text=True)


def test_an_operator_pauses_and_resumes_a_schedule(admin_app: Flask, login_as: LoginAs) -> None:
    with admin_app.app_context():
        schedule = Schedule(
            name='weekly-digest', cron='0 9 * * 1', timezone='Europe/Moscow', type='info', channels=['email'],
            audience={'kind': 'list', 'emails': ['a@example.com']}, fields={'title': 't', 'text': 'x'},
            start_at=utcnow() - dt.timedelta(days=1), next_fire_at=utcnow() + dt.timedelta(days=1),
        )
        db.session.add(schedule)
        db.session.commit()
        schedule_id = schedule.id
    client = login_as('operator')

    post_form(client, '/admin/schedules/', '/admin/schedules/{0}/pause/'.format(schedule_id), {})
    paused = client.get('/admin/schedules/').get_data(as_text=True)
    post_form(client, '/admin/schedules/', '/admin/schedules/{0}/resume/'.format(schedule_id), {})
    resumed = client.get('/admin/schedules/').get_data(as_text=True)

    assert 'Paused weekly-digest.' in paused
    assert '<td class="schedule-state">paused</td>' in paused
    assert 'Resumed weekly-digest.' in resumed
    assert '<td class="schedule-state">enabled</td>' in resumed


def test_an_operator_sees_why_a_schedule_fails(admin_app: Flask, login_as: LoginAs) -> None:
    with admin_app.app_context():
        db.session.add(Schedule(
            name='retired-digest', cron='0 9 * * 1', timezone='UTC', type='retired-type', channels=['email'],
            audience={'kind': 'list', 'emails': ['a@example.com']}, fields={},
            start_at=utcnow() - dt.timedelta(days=8), next_fire_at=utcnow() + dt.timedelta(days=6),
            failure="unknown notification type 'retired-type'",
            failed_at=dt.datetime(2026, 5, 4, 9, tzinfo=dt.timezone.utc),
        ))
        db.session.commit()

    page = login_as('operator').get('/admin/schedules/').get_data(as_text=True)

    assert 'failing since 2026-05-04 09:00:00 UTC: unknown notification type &#39;retired-type&#39;' in page
