"""NOTIFIER_BROKER_URL listing dead nodes beside a live one: every process finds the live node."""

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib import request as url_request

import pytest

from tests.plugins.app import wait_for
from tests.plugins.services import own_database, own_vhost, require_service
from tests.plugins.smtp import RecordingHandler, free_port

TOKEN = 'nodes-token'
EMAIL = 'nodes@example.com'


def _dead_node(broker_url: str) -> str:
    """The same vhost on a port nothing listens on (a node that is down), with a password of its own."""
    vhost = broker_url.rsplit('/', 1)[1]
    return 'amqp://guest:dead-node-secret@127.0.0.1:{0}/{1}'.format(free_port(), vhost)


@pytest.fixture
def service_env(tmp_path: Path, smtp_server: RecordingHandler) -> Iterator[dict[str, str]]:
    require_service('PostgreSQL', '127.0.0.1', 5432)
    with own_database() as database_url, own_vhost() as broker_url:
        env = {
            **os.environ,
            'NOTIFIER_DATABASE_URL': database_url,
            # two dead nodes and the live one: whatever node a process tries first, most start at a dead one
            'NOTIFIER_BROKER_URL': ','.join((_dead_node(broker_url), _dead_node(broker_url), broker_url)),
            'NOTIFIER_INSTANCE_DIR': str(tmp_path),
            'NOTIFIER_EMAIL_URL': 'smtp://127.0.0.1:{0}'.format(smtp_server.port),
            'NOTIFIER_API_TOKENS': TOKEN,
            'NOTIFIER_SCHEDULER_INTERVAL': '0.2',
        }
        subprocess.run(
            [sys.executable, '-m', 'notifier', 'db', 'upgrade'], env=env, check=True, capture_output=True, timeout=120,
        )
        yield env


def _start(env: dict[str, str], log: Path, *mode: str) -> subprocess.Popen[bytes]:
    with log.open('ab') as output:
        return subprocess.Popen(
            [sys.executable, '-m', 'notifier', 'run', *mode], env=env, stdout=output, stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _post(port: int) -> bool:
    request = url_request.Request(  # noqa: S310 - our own local API
        'http://127.0.0.1:{0}/api/v1/events'.format(port),
        data=json.dumps({
            'meta': {'urgency': 'immediate', 'email': EMAIL},
            'type': 'info', 'fields': {'title': 'Nodes', 'text': 'One is alive'},
        }).encode(),
        method='POST',
        headers={
            'Authorization': 'Bearer {0}'.format(TOKEN),
            'Content-Type': 'application/json',
            'Idempotency-Key': 'broker-nodes-1',
        },
    )
    try:
        with url_request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status == 202
    except OSError:
        return False


def test_the_service_works_with_dead_nodes_listed_before_the_live_one(
    service_env: dict[str, str], smtp_server: RecordingHandler, tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / 'processes.log'
    with ExitStack() as running:
        for mode in (('consume',), ('schedule',), ('api', '--port', str(port))):
            running.callback(_stop, _start(service_env, log, *mode))
        wait_for(lambda: _post(port), timeout=90, what='the API to accept the notification')
        wait_for(lambda: smtp_server.to(EMAIL), timeout=90, what='the mail')

        listed = subprocess.run(
            [sys.executable, '-m', 'notifier', 'dlq', 'list'],
            env=service_env, capture_output=True, text=True, timeout=120, check=False,
        )

    assert len(smtp_server.to(EMAIL)) == 1
    assert listed.returncode == 0, listed.stderr
    logged = log.read_text(errors='replace')
    assert 'Traceback' not in logged
    assert 'dead-node-secret' not in logged + listed.stdout + listed.stderr
