"""``/metrics`` while the pipeline works: deliveries, stages, retries and parking, queues, the database state."""

import datetime as dt

from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.samples import Sample

from notifier.extensions import db
from notifier.models import BreakerState, OutboxMessage, RateLimit
from notifier.observability.queue_gauges import QueueGauges, QueueSource
from notifier.pipeline import topology
from tests.integration import queries
from tests.observability.conftest import free_port, sample_total, sample_value, scrape_app, scrape_samples
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler

BATCH = 5
SENT = {'channel': 'email', 'state': 'sent'}


def _sent_so_far(app: Flask) -> float:
    return sample_value(scrape_app(app), 'notifier_deliveries_completed_total', **SENT)


def _wait_until_sent(app: Flask, notification_id: str) -> None:
    wait_for(lambda: queries.sent_delivery(app, notification_id), what='every mail')


def _moved(before: list[Sample], after: list[Sample], name: str, **labels: str) -> float:
    return sample_total(after, name, **labels) - sample_total(before, name, **labels)


def test_delivery_counters_move_while_a_batch_is_sent(smtp_app: Flask, smtp_server: RecordingHandler) -> None:
    before = scrape_app(smtp_app)
    seen = [_sent_so_far(smtp_app)]
    client = smtp_app.test_client()
    with running_consumers(smtp_app):
        ids = [
            queries.post_event(client, queries.welcome_to('batch{0}@example.com'.format(index))).json['id']
            for index in range(BATCH)
        ]
        for notification_id in ids:
            _wait_until_sent(smtp_app, notification_id)
            seen.append(_sent_so_far(smtp_app))
    after = scrape_app(smtp_app)

    assert seen == sorted(seen)  # a counter only goes up
    assert seen[-1] - seen[0] == BATCH
    assert _moved(before, after, 'notifier_deliveries_completed_total', **SENT) == BATCH
    assert _moved(before, after, 'notifier_send_seconds_count', channel='email') == BATCH
    latency = 'notifier_delivery_latency_seconds_count'
    assert _moved(before, after, latency, channel='email', scale='individual') == BATCH
    assert _moved(before, after, 'notifier_events_accepted_total', type='welcome') == BATCH
    for stage in ('router', 'generator', 'worker', 'sender'):
        assert _moved(before, after, 'notifier_messages_consumed_total', stage=stage) >= BATCH
        assert _moved(before, after, 'notifier_stage_seconds_count', stage=stage) >= BATCH
    assert sample_value(after, 'notifier_deliveries', **SENT) == BATCH  # counted in the database
    assert sample_value(after, 'notifier_outbox_backlog') == 0
    assert sample_value(after, 'notifier_queue_messages', queue='notifier.parking-lot') == 0
    assert sample_value(after, 'notifier_queue_messages_read') == 1


def test_a_poison_message_is_counted_as_consumed_and_parked(app: Flask) -> None:
    before = scrape_app(app)
    with running_consumers(app, stages=('router',)):
        queries.publish(app, topology.NOTIFICATIONS, b'not json at all')
        wait_for(lambda: queries.parked_count(app) == 1, what='the poison message in the parking lot')
    after = scrape_app(app)

    parked = 'notifier_messages_parked_total'
    assert sample_value(after, parked, stage='router') - sample_value(before, parked, stage='router') == 1
    assert sample_value(after, 'notifier_queue_messages', queue='notifier.parking-lot') == 1


def test_outbox_backlog_breakers_and_rate_limits_are_read_at_scrape_time(app: Flask) -> None:
    an_hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    with app.app_context():
        db.session.add(OutboxMessage(
            message_id='route:stuck', routing_key=topology.NOTIFICATIONS, payload={}, created_at=an_hour_ago,
        ))
        db.session.add(OutboxMessage(  # refused by the broker again and again: counted apart, not as backlog
            message_id='route:refused', routing_key='nowhere', payload={},
            created_at=an_hour_ago - dt.timedelta(days=1),
            set_aside_at=an_hour_ago, last_error='PublishError: no queue is bound',
        ))
        db.session.add(BreakerState(name='users', holder='node-1:42', phase='open', detail='5 timeouts'))
        db.session.add(RateLimit(name='channel.email', per_second=25))
        db.session.commit()

    samples = scrape_app(app)

    assert sample_value(samples, 'notifier_outbox_backlog') == 1
    assert 3600 <= sample_value(samples, 'notifier_outbox_oldest_seconds') < 7200
    assert sample_value(samples, 'notifier_outbox_set_aside') == 1
    breaker = {'breaker': 'users', 'holder': 'node-1:42'}
    assert sample_value(samples, 'notifier_breaker_state', state='open', **breaker) == 1
    assert sample_value(samples, 'notifier_breaker_state', state='closed', **breaker) == 0
    changed_at = sample_value(samples, 'notifier_breaker_changed_timestamp_seconds', **breaker)
    assert changed_at > an_hour_ago.timestamp()
    assert sample_value(samples, 'notifier_rate_limit_per_second', limit='channel.email') == 25
    assert sample_value(samples, 'notifier_state_read') == 1


def test_queue_depths_say_so_when_rabbitmq_does_not_answer() -> None:
    nobody = 'amqp://guest:guest@127.0.0.1:{0}/%2F'.format(free_port())
    registry = CollectorRegistry()
    registry.register(QueueGauges(QueueSource(nobody, ['email'], delivery_limit=5, retry_delays=[1])))

    samples = scrape_samples(generate_latest(registry).decode())

    assert sample_value(samples, 'notifier_queue_messages_read') == 0
    assert 'notifier_queue_messages' not in {sample.name for sample in samples}
