"""Metrics and logs of real processes: ``consume``/``schedule --metrics-port``, ``api --workers`` under gunicorn."""

import json
import subprocess
import sys
from urllib import request as url_requests
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pika
from prometheus_client.samples import Sample

from notifier.pipeline import topology
from tests.observability.conftest import free_port, http_get, sample_value, scrape_samples, stop_process, wait_for_http
from tests.plugins.app import TOKEN, wait_for

WELCOME = json.dumps({
    'meta': {'urgency': 'immediate', 'scale': 'individual', 'email': 'vasya@example.com', 'periodic': False},
    'type': 'welcome',
    'fields': {'name': 'Вася'},
}).encode()
EVENTS = 6
STALE_COUNT = 'from notifier.observability import metrics; metrics.events_accepted.labels(type="welcome").inc(100)'


@contextmanager
def _running(env: dict[str, str], log_file: Path, *arguments: str) -> Iterator['subprocess.Popen[bytes]']:
    with log_file.open('wb') as stderr:
        process = subprocess.Popen(
            [sys.executable, '-m', 'notifier', 'run', *arguments], env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )
        try:
            yield process
        finally:
            stop_process(process)


def _publish_poison(broker_url: str) -> bool:
    """Publish a broken message to the router; False while its queue is not declared yet."""
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(topology.EXCHANGE, topology.NOTIFICATIONS, b'{"not": "a notification"', mandatory=True)
    except pika.exceptions.UnroutableError:
        return False  # the metrics port opens before the consumer has declared its queues
    finally:
        connection.close()
    return True


def _scrape(url: str) -> list[Sample]:
    return scrape_samples(http_get(url) or '')


def _parked(url: str) -> list[Sample] | None:
    """The scrape once it shows the router parked a message."""
    samples = _scrape(url)
    return samples if sample_value(samples, 'notifier_messages_parked_total', stage='router') else None


def _post_event(url: str, request_id: str) -> int:
    request = url_requests.Request(url, data=WELCOME, method='POST', headers={  # noqa: S310 - a local test URL
        'Authorization': 'Bearer {0}'.format(TOKEN),
        'Content-Type': 'application/json',
        'X-Request-ID': request_id,
    })
    with url_requests.urlopen(request, timeout=10) as answer:  # noqa: S310 - a local test URL
        return int(answer.status)


def test_a_consume_process_serves_its_metrics_on_the_metrics_port(
    service_env: dict[str, str], tmp_path: Path,
) -> None:
    port = free_port()
    url = 'http://127.0.0.1:{0}/metrics'.format(port)
    arguments = ('consume', '--only', 'router', '--metrics-port', str(port))
    with _running(service_env, tmp_path / 'consume.log', *arguments) as consumer:
        wait_for_http(url, consumer)
        wait_for(lambda: _publish_poison(service_env['NOTIFIER_BROKER_URL']), what="the router's queue")
        samples = wait_for(lambda: _parked(url), what='the parked message in the metrics')

    assert sample_value(samples, 'notifier_messages_consumed_total', stage='router') == 1
    assert sample_value(samples, 'notifier_messages_parked_total', stage='router') == 1


def test_a_schedule_process_serves_its_metrics_on_the_metrics_port(
    service_env: dict[str, str], tmp_path: Path,
) -> None:
    port = free_port()
    url = 'http://127.0.0.1:{0}/metrics'.format(port)
    with _running(service_env, tmp_path / 'schedule.log', 'schedule', '--metrics-port', str(port)) as scheduler:
        exposition = wait_for_http(url, scheduler)

    assert '# TYPE notifier_messages_consumed_total counter' in exposition


def test_gunicorn_workers_sum_their_metrics_and_log_json_lines(service_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    base = 'http://127.0.0.1:{0}'.format(port)
    log_file = tmp_path / 'api.log'
    metrics_dir = tmp_path / 'metrics'
    metrics_dir.mkdir()
    env = {**service_env, 'NOTIFIER_LOG_FORMAT': 'json', 'PROMETHEUS_MULTIPROC_DIR': str(metrics_dir)}
    subprocess.run([sys.executable, '-c', STALE_COUNT], env=env, check=True)  # a previous run's values
    with _running(env, log_file, 'api', '--workers', '2', '--port', str(port)) as api:
        wait_for_http('{0}/healthz'.format(base), api)
        statuses = [_post_event('{0}/api/v1/events'.format(base), 'batch-{0}'.format(index)) for index in range(EVENTS)]
        scrapes = [_scrape('{0}/metrics'.format(base)) for _ in range(EVENTS)]  # each answered by either worker

    assert set(statuses) == {202}
    # every scrape, whichever worker answers, sums both workers; the previous run's values are gone
    assert {sample_value(samples, 'notifier_events_accepted_total', type='welcome') for samples in scrapes} == {EVENTS}
    records = [json.loads(line) for line in log_file.read_text().splitlines()]  # every line is JSON
    accepted = [record for record in records if record['message'].startswith('accepted a welcome notification')]
    assert {record['request_id'] for record in accepted} == {'batch-{0}'.format(index) for index in range(EVENTS)}
    assert any(record['logger'] == 'gunicorn.error' for record in records)  # gunicorn's own lines too
    access = [record for record in records if record['logger'] == 'notifier.access']
    assert [record['message'] for record in access].count('POST /api/v1/events -> 202') == EVENTS
    assert not any(record['logger'] == 'gunicorn.access' for record in records)  # ours replace its lines
