"""The socket rows of ``make bench``; alone: ``make bench-sockets`` (``python -m bench.sockets``).

Starts ``notifier run api --workers 1`` (gunicorn, production settings) on a database and vhost of its own,
opens BENCH_SOCKETS WebSockets to its ``/ws`` listener from this process (asyncio, two tabs per user),
and reports:

- how fast they opened (handshake, token check, the unread backlog read, the hello);
- the RSS of the gunicorn worker that serves them, with them open, and per socket over its RSS before;
- while they are all open, BENCH_SOCKET_PUSHES notifications published at BENCH_SOCKET_RATE/s to random users
  through the fan-out exchange, exactly as the websocket channel publishes them after filing the inbox item:
  the p50/p99/max from the publish to the moment a socket has it, per socket, and per notification until
  every socket of its user has it;
- then BENCH_SOCKET_EVENTS notifications (200) posted at 10/s to ``POST /api/v1/events`` (channel websocket, one
  ``run consume`` process, after 10 not counted): from the POST to every socket of the user, through the whole
  pipeline.

The bench client's objects are frozen out of its garbage collector once
  the sockets are open (``gc.freeze``): its own full collections would otherwise be counted as delivery time.

Client and server are on this machine: each side needs one file descriptor per socket; the bench lifts
RLIMIT_NOFILE (the server lifts its own soft limit to the hard one it inherits).
"""

import asyncio
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from websockets.asyncio.client import ClientConnection, connect

from notifier.inbox.tokens import issue_token
from notifier.pipeline.live import LivePublisher

SOCKETS = int(os.environ.get('BENCH_SOCKETS', '10000'))
PUSHES = int(os.environ.get('BENCH_SOCKET_PUSHES', '2000'))
PUSH_RATE = float(os.environ.get('BENCH_SOCKET_RATE', '100'))
EVENTS = int(os.environ.get('BENCH_SOCKET_EVENTS', '200'))
EVENT_RATE = 10.0
#: Notifications through the pipeline before the measured ones (each stage connects and fills its caches).
WARM_UP_EVENTS = 10
TABS_PER_USER = 2
OPENING_AT_ONCE = 200
SECRET = 'bench-websocket-secret'
TOKEN = 'bench'
PYTHON = sys.executable
#: File descriptors besides the sockets (the interpreter, libraries, the broker and database connections).
SPARE_FILES = 1024
Row = tuple[str, str]


def _free_port() -> int:
    import socket  # noqa: WPS433 - only here

    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def lift_open_files(needed: int) -> int:
    """Raise this process's RLIMIT_NOFILE (and so its children's) to at least ``needed``; the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, needed))  # root may raise the hard limit
        except (ValueError, OSError) as error:
            raise SystemExit('bench: {0} sockets need {1} open files, the hard limit is {2} ({3})'.format(
                SOCKETS, needed, hard, error,
            ))
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_mb(pid: int) -> float:
    for line in Path('/proc/{0}/status'.format(pid)).read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    return [int(child) for child in Path('/proc/{0}/task/{0}/children'.format(pid)).read_text().split()]


#: The shares of the latency percentiles printed.
MEDIAN = 0.5
P99 = 0.99


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit('bench: timed out waiting for {0}'.format(what))
        time.sleep(0.1)


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen('http://127.0.0.1:{0}/healthz'.format(port), timeout=2)  # noqa: S310 - ours
    except OSError:
        return False
    return True


@contextmanager
def socket_api(database_url: str, broker_url: str, tmp: Path) -> Iterator[tuple[int, int, int]]:
    """``notifier run api --workers 1`` serving ``/ws``, and one ``run consume``; the master's pid and the ports."""
    port, socket_port = _free_port(), _free_port()
    env = {
        **os.environ,
        'NOTIFIER_DATABASE_URL': database_url,
        'NOTIFIER_BROKER_URL': broker_url,
        'NOTIFIER_API_TOKENS': TOKEN,
        'NOTIFIER_INSTANCE_DIR': str(tmp),
        'NOTIFIER_SECRET_KEY': 'bench-secret',
        'NOTIFIER_WEBSOCKET_SECRET': SECRET,
        'NOTIFIER_WEBSOCKET_PORT': str(socket_port),
        'NOTIFIER_ENVIRONMENT': 'production',
    }
    subprocess.run([PYTHON, '-m', 'notifier', 'db', 'upgrade', 'heads'], env=env, check=True, capture_output=True)
    _add_users(database_url, bench_users())
    log = Path(os.environ.get('BENCH_SOCKET_LOG', os.devnull)).open('ab')  # the API's and consumer's log lines
    processes = [subprocess.Popen(
        [PYTHON, '-m', 'notifier', 'run', *arguments], env=env, stdout=log, stderr=log,
    ) for arguments in (('api', '--workers', '1', '--port', str(port)), ('consume',))]
    try:
        _wait(lambda: _answers(port), 120, 'the API')
        yield processes[0].pid, socket_port, port
    finally:
        for process in processes:
            process.terminate()
        for stopped in processes:
            try:
                stopped.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stopped.kill()
        log.close()


def bench_users() -> list[str]:
    return ['sock{0:06d}'.format(number) for number in range(SOCKETS // TABS_PER_USER)]


def _add_users(database_url: str, users: list[str]) -> None:
    """The socket users in the local directory (the pipeline's websocket deliveries need them)."""
    with psycopg.connect(database_url.replace('postgresql+psycopg://', 'postgresql://')) as connection:
        with connection.cursor().copy('COPY users (id, email, name, push_tokens, updated_at) FROM STDIN') as copy:
            for user_id in users:
                copy.write_row((user_id, '{0}@example.com'.format(user_id), 'Зритель', '[]', '2026-01-01T00:00:00'))
        connection.commit()


class Receipts:
    """When each socket got each pushed notification (this process's monotonic clock)."""

    def __init__(self) -> None:
        self.published: dict[str, float] = {}
        self.users: dict[str, str] = {}
        self.received: dict[str, list[float]] = {}

    def count_of(self, prefix: str) -> int:
        return sum(len(times) for title, times in self.received.items() if title.startswith(prefix))

    def latencies(self, prefix: str) -> tuple[list[float], list[float]]:
        """Per socket and push; per push until every tab of its user has it (only pushes every tab got)."""
        mine = {title: times for title, times in self.received.items() if title.startswith(prefix)}
        per_socket = sorted(arrived - self.published[title] for title, times in mine.items() for arrived in times)
        complete = [max(times) - self.published[title] for title, times in mine.items() if len(times) == TABS_PER_USER]
        return per_socket, sorted(complete)


async def _read(connection: ClientConnection, receipts: Receipts) -> None:
    async for frame in connection:
        message = json.loads(frame)
        if message.get('type') == 'notification':  # each title is unique in the bench
            receipts.received.setdefault(message['title'], []).append(time.monotonic())


async def _open(url: str, opening: asyncio.Semaphore) -> ClientConnection:
    async with opening:
        connection = await connect(url, open_timeout=120, ping_interval=None, compression=None, max_queue=None)
        hello = json.loads(await connection.recv())
        assert hello['type'] == 'hello', hello  # noqa: S101 - the bench stops on a wrong first message
        return connection


def _publish(broker_url: str, users: list[str], receipts: Receipts) -> None:
    """PUSHES notifications at PUSH_RATE/s, each to a random user, as the websocket channel publishes them."""
    publisher = LivePublisher(broker_url)
    publisher.push({'user_id': 'nobody', 'message': {'id': 'warm-up', 'title': 'warm-up'}}, 'warm-up')  # connected
    started = time.monotonic()
    try:
        for number in range(PUSHES):
            time.sleep(max(0.0, started + number / PUSH_RATE - time.monotonic()))
            user_id = random.choice(users)  # noqa: S311 - not a secret
            push_id = 'bench-push-{0}'.format(number)
            body = {'user_id': user_id, 'message': {
                'type': 'notification', 'id': push_id, 'notification_id': push_id,
                'title': push_id, 'body': 'Сегодня в 20:00', 'data': {}, 'read_at': None,
            }}
            receipts.users[push_id] = user_id
            receipts.published[push_id] = time.monotonic()
            publisher.push(body, push_id)
    finally:
        publisher.close()


async def _settle(receipts: Receipts, prefix: str, sent: int) -> None:
    """Until every tab got every one of them, or a minute passed (the row then says how many arrived)."""
    deadline = time.monotonic() + 60
    while receipts.count_of(prefix) < sent * TABS_PER_USER and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


def _post_events(api_port: int, users: list[str], receipts: Receipts, prefix: str, count: int) -> None:
    """Instant notifications to random users' websocket channel, EVENT_RATE a second, through the API."""
    started = time.monotonic()
    for number in range(count):
        time.sleep(max(0.0, started + number / EVENT_RATE - time.monotonic()))
        title = '{0}{1}'.format(prefix, number)
        body = json.dumps({
            'meta': {'urgency': 'immediate', 'user_id': random.choice(users)},  # noqa: S311 - not a secret
            'type': 'info', 'channels': ['websocket'], 'fields': {'title': title, 'text': 'Сегодня в 20:00'},
        }).encode()
        request = urllib.request.Request(
            'http://127.0.0.1:{0}/api/v1/events'.format(api_port), data=body, method='POST',
            headers={'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json'},
        )
        receipts.published[title] = time.monotonic()
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - our own local API
            pass  # noqa: WPS420


async def _scenario(socket_port: int, api_port: int, broker_url: str, worker: int) -> list[Row]:
    users = bench_users()
    expires = int(time.time()) + 3600
    urls = [
        'ws://127.0.0.1:{0}/ws?token={1}'.format(socket_port, quote(issue_token(SECRET, user_id, expires), safe=''))
        for user_id in users for _ in range(TABS_PER_USER)
    ]
    opening = asyncio.Semaphore(OPENING_AT_ONCE)
    await (await _open(urls[0], opening)).close()  # the worker's listener and subscription are warm
    before = rss_mb(worker)
    started = time.monotonic()
    connections = await asyncio.gather(*(_open(url, opening) for url in urls))
    opened_in = time.monotonic() - started
    # The client's own full garbage collections over its 10,000 connections pause its loop for ~0.5 s and
    # would be counted as delivery time: the objects of the open sockets leave the collector's generations.
    receipts = Receipts()
    readers = [asyncio.create_task(_read(connection, receipts)) for connection in connections]
    gc.collect()
    gc.freeze()
    await asyncio.sleep(2)  # every reader is waiting on its socket
    with_sockets = rss_mb(worker)
    opened = len(connections)
    rows = [
        ('sockets: {0} opened'.format(opened), '{0:.1f}s ({1:.0f}/s, {2} in flight)'.format(
            opened_in, opened / opened_in, OPENING_AT_ONCE,
        )),
        ('sockets: worker RSS with {0} open'.format(opened), (
            '{0:.0f} MB ({1:.0f} MB before: {2:.1f} KB per socket)'
        ).format(with_sockets, before, 1024 * (with_sockets - before) / opened)),
    ]
    await asyncio.to_thread(_publish, broker_url, users, receipts)
    await _settle(receipts, 'bench-push-', PUSHES)
    per_socket, per_push = receipts.latencies('bench-push-')
    socket_seconds = [percentile(per_socket, MEDIAN), percentile(per_socket, P99), per_socket[-1]]
    socket_ms = [1000 * seconds for seconds in socket_seconds]
    rows.append(('sockets: {0} pushes at {1:g}/s, {2} open'.format(PUSHES, PUSH_RATE, opened), (
        '{0} of {1} socket deliveries; publish → socket p50 {2:.0f} ms, p99 {3:.0f} ms, max {4:.0f} ms; '
        'every tab of the user: p99 {5:.0f} ms'
    ).format(len(per_socket), PUSHES * TABS_PER_USER, *socket_ms, 1000 * percentile(per_push, P99))))
    await asyncio.to_thread(_post_events, api_port, users, receipts, 'bench-warm-up-', WARM_UP_EVENTS)
    await _settle(receipts, 'bench-warm-up-', WARM_UP_EVENTS)  # every stage's connections and caches are warm
    await asyncio.to_thread(_post_events, api_port, users, receipts, 'bench-event-', EVENTS)
    await _settle(receipts, 'bench-event-', EVENTS)
    per_socket, per_event = receipts.latencies('bench-event-')
    rows.append(('sockets: {0} events at {1:g}/s through the pipeline'.format(EVENTS, EVENT_RATE), (
        '{0} of {1} socket deliveries; POST → every tab of the user p50 {2:.0f} ms, p99 {3:.0f} ms, max {4:.0f} ms'
    ).format(
        len(per_socket), EVENTS * TABS_PER_USER, 1000 * percentile(per_event, MEDIAN),
        1000 * percentile(per_event, P99), 1000 * per_event[-1],
    )))
    rows.append(('sockets: worker RSS after the pushes', '{0:.0f} MB'.format(rss_mb(worker))))
    await asyncio.gather(*(connection.close() for connection in connections))
    await asyncio.gather(*readers, return_exceptions=True)
    return rows


def measure(database_url: str, broker_url: str) -> list[Row]:
    """The socket rows, on the given database and vhost (``make bench`` passes its own)."""
    lift_open_files(SOCKETS + SPARE_FILES)
    with ExitStack() as stack:
        instance_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        master, socket_port, api_port = stack.enter_context(socket_api(database_url, broker_url, instance_dir))
        workers = children(master)
        if len(workers) != 1:
            sys.exit('bench: expected one gunicorn worker, found {0}'.format(workers))
        rows = asyncio.run(_scenario(socket_port, api_port, broker_url, workers[0]))
        rows.append(('sockets: gunicorn master RSS', '{0:.0f} MB'.format(rss_mb(master))))
    return rows


def main() -> None:
    """Only the socket rows, on a database and vhost of their own."""
    from tests.plugins.services import own_database, own_vhost  # noqa: WPS433 - the bench's own services

    with ExitStack() as stack:
        rows = measure(stack.enter_context(own_database()), stack.enter_context(own_vhost()))
    width = max(len(label) for label, _ in rows)
    sys.stdout.write('\nnotifier socket bench ({0} cores)\n'.format(os.cpu_count()))
    for label, figure in rows:
        sys.stdout.write('  {0:<{1}}  {2}\n'.format(label, width, figure))


if __name__ == '__main__':
    threading.current_thread().name = 'bench-sockets'
    main()
