"""``python -m bench.api_cost``: the API alone under gunicorn, its CPU per accepted event.

The API as ``make bench`` runs it (``notifier run api --workers 2``, ``NOTIFIER_ENVIRONMENT=production``),
with no consumer (the outbox rows stay): events posted one per ``POST /api/v1/events`` from 8 keep-alive
client threads, then 100 per ``POST /api/v1/events/batch`` from 2. Prints requests/s, events/s, and the
gunicorn processes' CPU (user + system, from /proc) per request and per event.

Environment: API_COST_EVENTS (default 3000 of each kind), API_COST_WARMUP (200).
"""

import concurrent.futures
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.run import (
    CLIENT_THREADS,
    EVENTS_PER_BATCH,
    PYTHON,
    _healthy,
    KeepAliveClient,
    Service,
    cpu_seconds,
    free_port,
    individual_event,
    service_environment,
    wait_until,
)
from tests.plugins.services import own_database, own_vhost

EVENTS = int(os.environ.get('API_COST_EVENTS', '3000'))
WARMUP = int(os.environ.get('API_COST_WARMUP', '200'))
#: The API alone sends no mail: its processes get a port where nothing listens.
NO_SMTP_PORT = 2525


def _measure(label: str, api_pid: int, requests: int, events: int, job: Callable[[], object]) -> None:
    workers = _workers(api_pid)
    worker_before = [cpu_seconds(worker) for worker in workers]
    cpu_before = cpu_seconds(api_pid)
    started = time.monotonic()
    job()
    wall = time.monotonic() - started
    cpu = cpu_seconds(api_pid) - cpu_before
    shares = ', '.join(
        '{0:.1f} s'.format(cpu_seconds(worker) - before) for worker, before in zip(workers, worker_before)
    )
    print('{0}: {1} requests, {2} events in {3:.1f} s: {4:.0f} requests/s, {5:.0f} events/s; API CPU {6:.2f} ms per request, {7:.3f} ms per event (workers: {8})'.format(
        label, requests, events, wall, requests / wall, events / wall, 1000 * cpu / requests, 1000 * cpu / events, shares,
    ), flush=True)


def _workers(api_pid: int) -> list[int]:
    return [int(child) for child in Path('/proc/{0}/task/{0}/children'.format(api_pid)).read_text().split()]


def _py_spy(api_pid: int) -> 'subprocess.Popen[bytes] | None':
    """With API_COST_PY_SPY=FILE: py-spy samples the first gunicorn worker during the single POSTs."""
    output = os.environ.get('API_COST_PY_SPY')
    if not output:
        return None
    return subprocess.Popen(['py-spy', 'record', '--pid', str(api_pid), '--subprocesses', '--format', 'raw', '--output', output, '--nonblocking', '--rate', '1000'])


def main() -> None:
    with ExitStack() as stack:
        database_url = stack.enter_context(own_database())
        broker_url = stack.enter_context(own_vhost())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = service_environment(database_url, broker_url, NO_SMTP_PORT, tmp)  # the API alone sends no mail
        subprocess.run([PYTHON, '-m', 'notifier', 'db', 'upgrade', 'heads'], env=env, check=True, capture_output=True)
        service = Service(env, free_port())
        stack.callback(service.stop)
        service.start('api', 'run', 'api', '--workers', '2', '--port', str(service.api_port))
        wait_until(lambda: _healthy(service), 60, 'the API')
        api_pid = service.processes['api'].pid
        client = KeepAliveClient(service.api_port)
        spy = _py_spy(api_pid)
        with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            list(pool.map(lambda number: client.post('/api/v1/events', individual_event('warm', number)), range(WARMUP)))
            _measure('one POST per event', api_pid, EVENTS, EVENTS, lambda: list(pool.map(
                lambda number: client.post('/api/v1/events', individual_event('one', number)), range(EVENTS),
            )))
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        batches = [
            {'events': [
                {'idempotency_key': 'cost-{0}'.format(number), 'event': individual_event('many', number)}
                for number in range(start, min(start + EVENTS_PER_BATCH, EVENTS))
            ]}
            for start in range(0, EVENTS, EVENTS_PER_BATCH)
        ]
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            _measure('batch endpoint', api_pid, len(batches), EVENTS, lambda: list(pool.map(
                lambda batch: client.post('/api/v1/events/batch', batch), batches,
            )))


if __name__ == '__main__':
    main()
