"""Fixtures of the observability tests: logs captured as the service writes them, scrapes, processes."""

import io
import logging
import os
import socket
import subprocess
import sys
import time
from urllib import error as url_errors
from urllib import request as url_requests
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from notifier.observability.logs import LogFormat, build_handler
from tests.plugins.app import TOKEN
from tests.plugins.services import own_database, own_vhost, require_service


@pytest.fixture(params=['text', 'json'])
def log_format(request: pytest.FixtureRequest) -> LogFormat:
    """Each log test runs with the development (text) and the production (JSON) format."""
    chosen: LogFormat = request.param
    return chosen


@pytest.fixture
def captured_logs(log_format: LogFormat) -> Iterator[io.StringIO]:
    """Every INFO line of this process (API and in-process consumers), as the service's handler writes it."""
    stream = io.StringIO()
    service_handler = build_handler(stream, log_format)
    root = logging.getLogger()
    level = root.level
    root.addHandler(service_handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(service_handler)
        root.setLevel(level)


def scrape_samples(exposition: str) -> list[Sample]:
    """Every sample of a Prometheus text exposition."""
    families = text_string_to_metric_families(exposition)
    return [sample for family in families for sample in family.samples]


def scrape_app(app: Flask) -> list[Sample]:
    """GET /metrics of an app under test."""
    response = app.test_client().get('/metrics')
    assert response.status_code == 200
    return scrape_samples(response.get_data(as_text=True))


def sample_value(samples: list[Sample], name: str, **labels: str) -> float:
    """The value of one sample (0 when absent, as Prometheus treats a counter not yet created)."""
    found = [sample.value for sample in samples if sample.name == name and sample.labels == labels]
    return found[0] if found else 0


def sample_total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the samples of a name whose labels include these (other labels summed over)."""
    return sum(
        sample.value for sample in samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> str | None:
    """The body of a GET, or None while nothing answers."""
    try:
        with url_requests.urlopen(url, timeout=5) as answer:  # noqa: S310 - a local test URL
            return str(answer.read().decode())
    except (url_errors.URLError, ConnectionError):
        return None


@pytest.fixture
def service_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a ``notifier`` process with a database and a vhost of its own, migrated."""
    require_service('PostgreSQL', '127.0.0.1', 5432)
    with own_database() as database_url, own_vhost() as broker_url:
        env = {
            **os.environ,
            'NOTIFIER_DATABASE_URL': database_url,
            'NOTIFIER_BROKER_URL': broker_url,
            'NOTIFIER_INSTANCE_DIR': str(tmp_path),
            'NOTIFIER_EMAIL_URL': 'file://{0}'.format(tmp_path / 'outbox'),
            'NOTIFIER_API_TOKENS': TOKEN,
            'NOTIFIER_RETRY_DELAYS': '1s,2s',
            'NOTIFIER_SENDING_LEASE': '2',
        }
        env.pop('PROMETHEUS_MULTIPROC_DIR', None)
        subprocess.run(
            [sys.executable, '-m', 'notifier', 'db', 'upgrade'], env=env, check=True, capture_output=True, timeout=120,
        )
        yield env


def stop_process(process: 'subprocess.Popen[bytes]') -> None:
    """SIGTERM, then SIGKILL after 20 seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for_http(url: str, process: 'subprocess.Popen[bytes]', timeout: float = 30) -> str:
    """Poll a URL until it answers; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, 'the process exited with {0}'.format(process.returncode)
        body = http_get(url)
        if body is not None:
            return body
        time.sleep(0.1)
    pytest.fail('nothing answered at {0} after {1}s'.format(url, timeout))
