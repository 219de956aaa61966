"""``/metrics``: Prometheus text with accepted events, request latency and deliveries by state."""

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from notifier.extensions import db
from notifier.models import Delivery
from notifier.models.delivery import delivery_id_for
from notifier.observability import metrics
from tests.integration.queries import WELCOME, post_event


def _scrape(app: Flask) -> list[Sample]:
    response = app.test_client().get('/metrics')
    assert response.status_code == 200
    assert response.mimetype == 'text/plain'
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return [sample for family in families for sample in family.samples]


def _sample_value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [sample.value for sample in samples if sample.name == name and sample.labels == labels]
    return found[0] if found else 0


def test_accepted_events_are_counted_by_type_once_per_notification(app: Flask) -> None:
    before = _sample_value(_scrape(app), 'notifier_events_accepted_total', type='welcome')
    client = app.test_client()

    post_event(client, WELCOME, key='metrics-1')
    post_event(client, WELCOME, key='metrics-1')  # a replay is not a new event
    post_event(client, {**WELCOME, 'type': 'nope'})  # refused

    assert _sample_value(_scrape(app), 'notifier_events_accepted_total', type='welcome') == before + 1


def test_request_latency_is_observed_by_route_template_and_status(app: Flask) -> None:
    client = app.test_client()
    client.get('/api/v1/notifications/some-id')  # 401
    client.get('/no/such/route')

    samples = _scrape(app)

    route = '/api/v1/notifications/<notification_id>'
    assert _sample_value(samples, 'notifier_api_request_seconds_count', endpoint=route, status='401') >= 1
    assert _sample_value(samples, 'notifier_api_request_seconds_count', endpoint='<unmatched>', status='404') >= 1


def test_deliveries_are_counted_by_channel_and_state_from_the_database(app: Flask) -> None:
    notification_id = post_event(app.test_client(), WELCOME).json['id']
    with app.app_context():
        for recipient, state in (('a@example.com', 'sent'), ('b@example.com', 'sent'), ('c@example.com', 'failed')):
            db.session.add(Delivery(
                id=delivery_id_for(notification_id, recipient, 'email'),
                notification_id=notification_id,
                recipient=recipient,
                channel='email',
                state=state,
            ))
        db.session.commit()

    samples = _scrape(app)

    assert _sample_value(samples, 'notifier_deliveries', channel='email', state='sent') == 2
    assert _sample_value(samples, 'notifier_deliveries', channel='email', state='failed') == 1
    assert _sample_value(samples, 'notifier_deliveries_counted') == 1


def test_pipeline_metrics_exist_for_the_consumers(app: Flask) -> None:
    metrics.messages_consumed.labels(stage='router').inc()
    metrics.send_seconds.labels(channel='email').observe(0.2)

    samples = _scrape(app)

    assert _sample_value(samples, 'notifier_messages_consumed_total', stage='router') >= 1
    assert _sample_value(samples, 'notifier_send_seconds_count', channel='email') >= 1
    unused_yet = (metrics.messages_retried, metrics.messages_parked)
    names = {family.name for metric in unused_yet for family in metric.collect()}
    assert names == {'notifier_messages_retried', 'notifier_messages_parked'}


INCREMENT = (
    'from notifier.observability import metrics; '
    'metrics.events_accepted.labels(type="welcome").inc({0})'
)
SCRAPE = (
    'import sys; from sqlalchemy import create_engine; from sqlalchemy.orm import Session; '
    'from notifier.observability.exposition import render_metrics; '
    'sys.stdout.write(render_metrics(Session(create_engine("sqlite://")))[0].decode())'
)


def test_multiprocess_mode_sums_every_worker(tmp_path: Path) -> None:
    """Under gunicorn each worker writes its values to PROMETHEUS_MULTIPROC_DIR; a scrape sums them."""
    environment = {**os.environ, 'PROMETHEUS_MULTIPROC_DIR': str(tmp_path)}
    for increment in (2, 3):  # two worker processes
        subprocess.run([sys.executable, '-c', INCREMENT.format(increment)], env=environment, check=True)

    scraped = subprocess.run(
        [sys.executable, '-c', SCRAPE], env=environment, check=True, capture_output=True, text=True,
    ).stdout

    assert 'notifier_events_accepted_total{type="welcome"} 5.0' in scraped
    assert 'notifier_deliveries_counted 0.0' in scraped  # no deliveries table in that database: reported, no crash
