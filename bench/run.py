"""``make bench``: prints one table of figures measured on this machine.

The SMTP sink runs in a process of its own (``bench.sink``).

- raw ceiling: mails/s the sink takes from a bare smtplib client on one persistent connection, in this run
  (the best of RAW_ROUNDS rounds of RAW_MAILS);
- individual via the batch endpoint: events posted 100 per request, mails/s at the sink, ratio to the ceiling;
- individual, one POST per event: 8 client threads on keep-alive connections;
- CPU per mail by component for each of these and for the big mailing;
- bulk: a mailing to the local directory on PostgreSQL, mails/s, ratio, wall time, and the generator's highest
  RSS while it runs at two audience sizes (flat memory means the two are close);
- latency: while the big mailing is sent, instant notifications posted one at a time;
  p50/p99 from the POST to the mail's arrival at the sink (they take the priority lane);
- rate limit: with generator.publish at R/s, the observed expansion rate; with channel.email.send at R/s, the
  total send rate of 1 and of 3 sender processes (a limit is a total, docs/decisions/0019-rate-limits-are-totals.md);
- sockets: BENCH_SOCKETS (default 10000) WebSockets open on one API worker, its RSS, delivery p99 (bench/sockets.py).

Environment: BENCH_INDIVIDUAL (default 5000), BENCH_BULK_SMALL (10000), BENCH_BULK (100000),
BENCH_RATE (200; observed at the sink, so R must stay below what the pipeline sustains), BENCH_INSTANT (100,
posted 4 a second during the big mailing), BENCH_CONSUMERS (2 ``consume`` processes, one per core), BENCH_API_WORKERS (2
gunicorn workers). Uses the machine's
PostgreSQL and RabbitMQ (a database and vhost of its own). BENCH_ONLY=rate measures only the raw ceiling and the
rate-limit rows; BENCH_ONLY=bulk only the ceiling and one mailing of BENCH_BULK recipients.
"""

import concurrent.futures
import http.client
import json
import threading
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pika
import psycopg

from bench import sockets as socket_bench
from bench.sink import SinkReader, start_sink
from tests.plugins.services import own_database, own_vhost

TOKEN = 'bench'
PYTHON = sys.executable
INDIVIDUAL = int(os.environ.get('BENCH_INDIVIDUAL', '5000'))
BULK_SMALL = int(os.environ.get('BENCH_BULK_SMALL', '10000'))
BULK = int(os.environ.get('BENCH_BULK', '100000'))
RATE = float(os.environ.get('BENCH_RATE', '200'))  # observed at the sink: keep it below the pipeline's capacity
INSTANT = int(os.environ.get('BENCH_INSTANT', '100'))
CONSUMERS = int(os.environ.get('BENCH_CONSUMERS', '2'))
API_WORKERS = int(os.environ.get('BENCH_API_WORKERS', '2'))
RATE_ONLY = os.environ.get('BENCH_ONLY') == 'rate'
BULK_ONLY = os.environ.get('BENCH_ONLY') == 'bulk'
RATE_SENDERS = (1, 3)
EVENTS_PER_BATCH = 100
CLIENT_THREADS = 8
INSTANT_SPACING = 0.25
RAW_MAILS = 3000
#: Notifications sent through each endpoint before the measured rows (see :func:`warm_up`).
WARM_UP = 100
#: The ceiling is the best of a few rounds: a round slowed by the machine would flatter every ratio.
RAW_ROUNDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise SystemExit('bench: timed out after {0:.0f}s waiting for {1}'.format(timeout, what))
        time.sleep(0.05)
    return time.monotonic() - started


def raw_ceiling(port: int, sink: SinkReader) -> float:
    mail = EmailMessage()
    mail['From'] = 'bench@cinema.example'
    mail['To'] = 'raw@example.com'
    mail['Subject'] = 'Премьера'
    mail.set_content('Привет! Новый сезон уже на сайте.\n' * 40)
    raw = mail.as_bytes(policy=mail.policy.clone(linesep='\r\n'))
    rounds = []
    for _ in range(RAW_ROUNDS):
        sink.reset()
        started = time.monotonic()
        with smtplib.SMTP('127.0.0.1', port) as client:
            for _ in range(RAW_MAILS):
                client.sendmail('bench@cinema.example', ['raw@example.com'], raw)
        wait_until(lambda: sink.count() >= RAW_MAILS, 60, 'raw mails')
        rounds.append(RAW_MAILS / (time.monotonic() - started))
    return max(rounds)


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """User + system CPU of a process and, unless told, its children (gunicorn's workers), in seconds."""
    try:
        stat = Path('/proc/{0}/stat'.format(pid)).read_text().rsplit(')', 1)[1].split()
        children = Path('/proc/{0}/task/{0}/children'.format(pid)).read_text().split() if with_children else []
    except OSError:
        return 0.0
    own = (int(stat[11]) + int(stat[12])) / os.sysconf('SC_CLK_TCK')
    return own + sum(cpu_seconds(int(child)) for child in children)


def service_pids() -> dict[str, list[int]]:
    """The machine's PostgreSQL and RabbitMQ processes, and this one (the SMTP sink runs here)."""
    found: dict[str, list[int]] = {'postgres': [], 'rabbitmq': []}
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / 'comm').read_text().strip()
        except OSError:
            continue
        if command == 'postgres':
            found['postgres'].append(int(entry.name))
        elif command == 'beam.smp':
            found['rabbitmq'].append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds per component over a stretch of the bench."""

    def __init__(self, service: 'Service', sink_pid: int) -> None:
        self.pids = {name: [process.pid] for name, process in service.processes.items()}
        self.pids.update(service_pids())
        self.pids['SMTP sink'] = [sink_pid]
        self.started = self.read()

    def read(self) -> dict[str, float]:
        spent = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in self.pids.items()}
        spent['bench client'] = cpu_seconds(os.getpid(), with_children=False)  # its children are the service
        return spent

    def per_mail_ms(self, mails: int) -> str:
        mails = max(1, mails)
        ended = self.read()
        spent = {name: ended[name] - self.started.get(name, 0.0) for name in ended}
        parts = ['{0} {1:.1f}'.format(name, 1000 * seconds / mails) for name, seconds in spent.items() if seconds > 0]
        return '{0:.1f} ms in all: {1}'.format(1000 * sum(spent.values()) / mails, ', '.join(parts))


def peak_rss_mb(pid: int, field: str = 'VmHWM') -> float:
    """A process's lifetime peak RSS (``VmHWM``), or its RSS now (``VmRSS``), in MB."""
    for line in Path('/proc/{0}/status'.format(pid)).read_text().splitlines():
        if line.startswith('{0}:'.format(field)):
            return int(line.split()[1]) / 1024
    return 0.0


class RssSampler:
    """The highest RSS a process reaches while sampled (the lifetime peak may be from its start-up)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.highest = 0.0

    def sample(self) -> None:
        self.highest = max(self.highest, peak_rss_mb(self.pid, 'VmRSS'))


class Service:
    """The notifier as processes: api under gunicorn, consumers per stage."""

    def __init__(self, env: dict[str, str], api_port: int) -> None:
        self.env = env
        self.api_port = api_port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *arguments: str) -> None:
        self.processes[name] = subprocess.Popen(
            [PYTHON, '-m', 'notifier', *arguments], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_all_but(self, kept: str) -> None:
        """SIGTERM every consume process but ``kept`` and wait for them to exit."""
        stopped = [process for name, process in self.processes.items() if name.startswith('consume') and name != kept]
        for process in stopped:
            process.send_signal(signal.SIGTERM)
        for process in stopped:
            process.wait(timeout=60)

    def post(self, path: str, body: dict[str, Any], method: str = 'POST') -> Any:
        request = urllib.request.Request(
            'http://127.0.0.1:{0}{1}'.format(self.api_port, path),
            data=json.dumps(body).encode() if body else None,
            method=method,
            headers={'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json'},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own local API
            return json.loads(response.read() or b'null')


def service_environment(database_url: str, broker_url: str, smtp_port: int, tmp: Path) -> dict[str, str]:
    """What every notifier process of a bench runs with: its database, vhost, sink and instance folder."""
    return {
        **os.environ,
        'NOTIFIER_DATABASE_URL': database_url,
        'NOTIFIER_BROKER_URL': broker_url,
        'NOTIFIER_API_TOKENS': TOKEN,
        'NOTIFIER_EMAIL_URL': 'smtp://127.0.0.1:{0}'.format(smtp_port),
        'NOTIFIER_INSTANCE_DIR': str(tmp),
        'NOTIFIER_SECRET_KEY': 'bench-secret',
        'NOTIFIER_ENVIRONMENT': 'production',
        'NOTIFIER_WEBSOCKET_PORT': '0',  # the socket rows start an API of their own (bench/sockets.py)
    }


@contextmanager
def running_service(database_url: str, broker_url: str, smtp_port: int, tmp: Path) -> Iterator[Service]:
    env = service_environment(database_url, broker_url, smtp_port, tmp)
    subprocess.run([PYTHON, '-m', 'notifier', 'db', 'upgrade', 'heads'], env=env, check=True, capture_output=True)
    service = Service(env, free_port())
    service.start('api', 'run', 'api', '--workers', str(API_WORKERS), '--port', str(service.api_port))
    for number in range(1, CONSUMERS + 1):
        service.start('consume-{0}'.format(number), 'run', 'consume')
    service.start('scheduler', 'run', 'schedule')
    try:
        wait_until(lambda: _healthy(service), 60, 'the API')
        yield service
    finally:
        service.stop()


def _healthy(service: Service) -> bool:
    try:
        urllib.request.urlopen('http://127.0.0.1:{0}/healthz'.format(service.api_port), timeout=1)  # noqa: S310
    except OSError:
        return False
    return True


class KeepAliveClient:
    """One HTTP/1.1 connection per client thread, reused across requests (as a calling service would)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def post(self, path: str, body: Any) -> Any:
        connection = getattr(self.local, 'connection', None)
        if connection is None:
            connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)
            self.local.connection = connection
        connection.request('POST', path, json.dumps(body), {
            'Authorization': 'Bearer ' + TOKEN, 'Content-Type': 'application/json',
        })
        response = connection.getresponse()
        payload = response.read()
        if response.status >= 300:
            raise SystemExit('bench: {0} answered {1}: {2!r}'.format(path, response.status, payload[:300]))
        return json.loads(payload)


def individual_event(prefix: str, number: int) -> dict[str, Any]:
    return {
        'meta': {'urgency': 'immediate', 'email': '{0}{1}@example.com'.format(prefix, number)},
        'type': 'info', 'fields': {'title': 'Премьера', 'text': 'Сегодня'},
    }


def one_post_per_event(service: Service, sink: SinkReader) -> float:
    """INDIVIDUAL events, one POST each, from CLIENT_THREADS keep-alive clients; mails/s at the sink."""
    client = KeepAliveClient(service.api_port)
    sink.reset()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        list(pool.map(lambda number: client.post('/api/v1/events', individual_event('one', number)), range(INDIVIDUAL)))
    wait_until(lambda: sink.count_to('one') >= INDIVIDUAL, 900, 'the individual mails (one POST each)')
    return INDIVIDUAL / (time.monotonic() - started)


def batch_endpoint(service: Service, sink: SinkReader) -> float:
    """INDIVIDUAL events posted EVENTS_PER_BATCH per request to /events/batch; mails/s at the sink."""
    client = KeepAliveClient(service.api_port)
    batches = [
        {'events': [
            {'idempotency_key': 'bench-{0}'.format(number), 'event': individual_event('many', number)}
            for number in range(start, min(start + EVENTS_PER_BATCH, INDIVIDUAL))
        ]}
        for start in range(0, INDIVIDUAL, EVENTS_PER_BATCH)
    ]
    sink.reset()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda batch: client.post('/api/v1/events/batch', batch), batches))
    wait_until(lambda: sink.count_to('many') >= INDIVIDUAL, 900, 'the individual mails (batch endpoint)')
    return INDIVIDUAL / (time.monotonic() - started)


def warm_up(service: Service, sink: SinkReader) -> None:
    """WARM_UP notifications through both endpoints before anything is measured, not counted.

    A process's first batches compile the templates and the statements, open the connections and
    import what they use lazily: a second of CPU in each, which the first row measured would
    otherwise carry (0.3 ms per mail of 5,000).
    """
    client = KeepAliveClient(service.api_port)
    client.post('/api/v1/events/batch', {'events': [
        {'idempotency_key': 'warm-{0}'.format(number), 'event': individual_event('warm', number)}
        for number in range(WARM_UP)
    ]})
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        list(pool.map(
            lambda number: client.post('/api/v1/events', individual_event('warm', number)), range(WARM_UP, 2 * WARM_UP),
        ))
    wait_until(lambda: sink.count_to('warm') >= 2 * WARM_UP, 120, 'the warm-up mails')


def add_users(database_url: str, count: int, prefix: str) -> None:
    with psycopg.connect(database_url.replace('postgresql+psycopg://', 'postgresql://')) as connection:
        with connection.cursor().copy('COPY users (id, email, name, push_tokens, updated_at) FROM STDIN') as copy:
            for number in range(count):
                user_id = '{0}{1:07d}'.format(prefix, number)
                copy.write_row((user_id, '{0}@example.com'.format(user_id), 'Зритель', '[]', '2026-01-01T00:00:00'))
        connection.execute(
            "INSERT INTO user_segments (segment, user_id) SELECT %s, id FROM users WHERE id LIKE %s",
            (prefix, prefix + '%'),
        )
        connection.commit()
        connection.execute('ANALYZE users, user_segments')  # as `notifier users import` does after an import


class LatencyProbe:
    """Posts instant notifications one at a time while a mailing runs; their latencies to the sink."""

    def __init__(self, service: Service, sink: SinkReader) -> None:
        self.service = service
        self.sink = sink
        self.posted: dict[str, float] = {}
        self.done = False

    def run(self) -> None:
        for number in range(INSTANT):
            if self.done:
                return
            email = 'lat{0:05d}@example.com'.format(number)
            self.posted[email] = time.monotonic()
            self.service.post('/api/v1/events', {
                'meta': {'urgency': 'immediate', 'email': email},
                'type': 'info', 'fields': {'title': 'Срочно', 'text': 'Ваш код'},
            })
            time.sleep(INSTANT_SPACING)

    def latencies(self) -> list[float]:
        wait_until(lambda: self.sink.count_to('lat') >= len(self.posted), 120, 'the instant mails')
        arrived = {recipient: at for recipient, at, _ in self.sink.snapshot() if recipient.startswith('lat')}
        return sorted(arrived[email] - posted for email, posted in self.posted.items())


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def bulk(
    service: Service, sink: SinkReader, database_url: str, count: int, prefix: str, probe: LatencyProbe | None = None,
) -> tuple[float, float, float]:
    add_users(database_url, count, prefix)
    sink.reset()
    started = time.monotonic()
    accepted = service.post('/api/v1/events', {
        'meta': {'scale': 'bulk', 'audience': {'segment': prefix}},
        'type': 'info', 'fields': {'title': 'Премьера', 'text': 'Для вас'},
    })
    generators = [RssSampler(process.pid) for name, process in service.processes.items() if name.startswith('consume')]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        if probe is not None:
            pool.submit(probe.run)
        try:
            wait_until(
                lambda: [generator.sample() for generator in generators] and sink.count_to(prefix) >= count,
                3600, 'the bulk mails ({0})'.format(count),
            )
        finally:
            if probe is not None:
                probe.done = True
    elapsed = time.monotonic() - started
    # A chunk's rows say sent a moment after its mails reached the sink (its answers commit after them).
    wait_until(
        lambda: service.post('/api/v1/mailings/{0}'.format(accepted['id']), {}, method='GET')['sent'] == count,
        60, 'every delivery of the mailing recorded as sent',
    )
    return count / elapsed, max(generator.highest for generator in generators), elapsed


def rate_limited(service: Service, sink: SinkReader, database_url: str, count: int) -> float:
    service.post('/api/v1/limits/generator.publish', {'rate': '{0:g}/s'.format(RATE)}, method='PUT')
    time.sleep(3)  # every process re-reads its limits within 2 s
    try:
        add_users(database_url, count, 'rate')
        sink.reset()
        service.post('/api/v1/events', {
            'meta': {'scale': 'bulk', 'audience': {'segment': 'rate'}},
            'type': 'info', 'fields': {'title': 'Премьера', 'text': 'Для вас'},
        })
        wait_until(lambda: sink.count() >= count, 600, 'the rate-limited mails')
        arrivals = sorted(arrived for _, arrived, _ in sink.snapshot())
        middle = arrivals[len(arrivals) // 10:len(arrivals) * 9 // 10]
        return (len(middle) - 1) / (middle[-1] - middle[0])
    finally:
        service.post('/api/v1/limits/generator.publish', {}, method='DELETE')


def queue_depth(broker_url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(broker_url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


def sends_queued(broker_url: str) -> bool:
    """Nothing left before the email senders' bulk queue, and its depth the same a second apart."""
    if any(queue_depth(broker_url, 'notifier.{0}.bulk'.format(stage)) for stage in ('generator', 'worker')):
        return False
    depth = queue_depth(broker_url, 'notifier.channel.email.bulk')
    time.sleep(1)
    return depth > 0 and depth == queue_depth(broker_url, 'notifier.channel.email.bulk')


def senders_rate_limited(
    service: Service, sink: SinkReader, database_url: str, broker_url: str, senders: int, churn: bool = False,
) -> float:
    """channel.email.send at RATE, the mailing's sends queued first, then ``senders`` processes: the total at the sink.

    Queued first, so that what is measured is the senders' limit and not what the generator keeps up with. With
    ``churn``, a sender is SIGKILLed once a third has arrived and another one started (the sends the dead one had
    claimed arrive after their lease, last: outside the measured middle).
    """
    prefix, count = 'rate-senders-{0}{1}'.format(senders, '-churn' if churn else ''), int(RATE * 15)
    service.stop_all_but('')  # the senders
    add_users(database_url, count, prefix)
    accepted = service.post('/api/v1/events', {
        'meta': {'scale': 'bulk', 'audience': {'segment': prefix}},
        'type': 'info', 'fields': {'title': 'Премьера', 'text': 'Для вас'},
    })
    mailing = '/api/v1/mailings/{0}'.format(accepted['id'])
    wait_until(lambda: service.post(mailing, {}, method='GET')['queued'] >= count, 600, 'the mailing queued')
    wait_until(lambda: sends_queued(broker_url), 300, 'the sends in their queue')
    service.post('/api/v1/limits/channel.email.send', {'rate': '{0:g}/s'.format(RATE)}, method='PUT')
    try:
        sink.reset()
        for number in range(1, senders + 1):
            service.start('consume-sender-{0}'.format(number), 'run', 'consume', '--only', 'sender')
        if churn:
            wait_until(lambda: sink.count() >= count // 3, 600, 'a third of the rate-limited mails')
            service.processes['consume-sender-1'].kill()
            service.start('consume-sender-{0}'.format(senders + 1), 'run', 'consume', '--only', 'sender')
        wait_until(lambda: sink.count() >= count, 600, 'the rate-limited mails')
        arrivals = sorted(arrived for _, arrived, _ in sink.snapshot())
        middle = arrivals[len(arrivals) // 10:len(arrivals) * 9 // 10]
        if churn:
            late = sum(arrived > middle[-1] + 10 for arrived in arrivals)
            say('  {0} mails arrived over 10 s after the measured middle (the killed sender\'s, after their lease)'.format(late))
        return (len(middle) - 1) / (middle[-1] - middle[0])
    finally:
        service.post('/api/v1/limits/channel.email.send', {}, method='DELETE')


def rate_rows(service: Service, sink: SinkReader, database_url: str, broker_url: str, rows: 'Rows') -> None:
    """The rate-limit rows: generator.publish with one generator, channel.email.send with 1 and 3 senders."""
    # A generator waiting for its rate holds its process: measured with one generator process and the sends
    # in another, as docs/operations.md tells an operator who limits the expansion to run them.
    step('bulk mailing at generator.publish {0:g}/s, one generator process'.format(RATE))
    service.stop_all_but('')
    service.start('generator', 'run', 'consume', '--only', 'router,generator,worker')
    service.start('consume-sender-1', 'run', 'consume', '--only', 'sender')
    time.sleep(5)  # both subscribed
    observed = rate_limited(service, sink, database_url, int(RATE * 10))
    rows.append(('rate limit generator.publish {0:g}/s, 1 generator'.format(RATE), 'observed {0:.1f}/s ({1:+.1f} %)'.format(observed, 100 * (observed - RATE) / RATE)))
    for senders in RATE_SENDERS:
        # A limit is a total over the processes: the sum at the sink, whatever the number of senders.
        step('bulk mailing at channel.email.send {0:g}/s, {1} sender process(es)'.format(RATE, senders))
        observed = senders_rate_limited(service, sink, database_url, broker_url, senders)
        rows.append(('rate limit channel.email.send {0:g}/s, {1} senders'.format(RATE, senders), 'observed {0:.1f}/s in all ({1:+.1f} %)'.format(observed, 100 * (observed - RATE) / RATE)))
    step('bulk mailing at channel.email.send {0:g}/s, 3 senders, one SIGKILLed and one started mid-run'.format(RATE))
    observed = senders_rate_limited(service, sink, database_url, broker_url, 3, churn=True)
    rows.append(('rate limit channel.email.send {0:g}/s, 3 senders, 1 killed + 1 started'.format(RATE), 'observed {0:.1f}/s in all ({1:+.1f} %)'.format(observed, 100 * (observed - RATE) / RATE)))


def main() -> None:
    smtp_port = free_port()
    rows = Rows()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        sink, sink_process = start_sink(smtp_port, tmp / 'sink.tsv')
        stack.callback(sink_process.kill)
        database_url = stack.enter_context(own_database())
        broker_url = stack.enter_context(own_vhost())
        step('raw SMTP ceiling (a bare smtplib client, one connection, the sink process)')
        ceiling = raw_ceiling(smtp_port, sink)
        rows.append(('raw ceiling (one SMTP connection)', '{0:.0f} mails/s'.format(ceiling)))
        service = stack.enter_context(running_service(database_url, broker_url, smtp_port, tmp))
        cores = os.cpu_count()
        if RATE_ONLY:
            rate_rows(service, sink, database_url, broker_url, rows)
            stack.close()
            print_table(rows)
            return
        if BULK_ONLY:
            for bulk_row in bulk_only(service, sink, sink_process.pid, database_url, ceiling):
                rows.append(bulk_row)
            stack.close()
            print_table(rows)
            return

        def measured(label: str, run: Callable[[], float], mails: int) -> float:
            meter = CpuMeter(service, sink_process.pid)
            rate = run()
            rows.append((label, '{0:.0f} mails/s ({1:.2f} × ceiling)'.format(rate, rate / ceiling)))
            rows.append(('  CPU per mail ({0} cores)'.format(cores), meter.per_mail_ms(mails)))
            return rate

        step('warming up: {0} notifications through each endpoint, not measured'.format(WARM_UP))
        warm_up(service, sink)
        step('{0} individual notifications, {1} per POST /api/v1/events/batch'.format(INDIVIDUAL, EVENTS_PER_BATCH))
        measured('individual, batch endpoint ({0})'.format(INDIVIDUAL), lambda: batch_endpoint(service, sink), INDIVIDUAL)
        step('{0} individual notifications, one POST each, {1} keep-alive clients'.format(INDIVIDUAL, CLIENT_THREADS))
        measured('individual, one POST each ({0})'.format(INDIVIDUAL), lambda: one_post_per_event(service, sink), INDIVIDUAL)
        step('bulk mailing to {0} users'.format(BULK_SMALL))
        small_rate, small_rss, _ = bulk(service, sink, database_url, BULK_SMALL, 'small')
        rows.append(('bulk {0} recipients'.format(BULK_SMALL), '{0:.0f} mails/s ({1:.2f} × ceiling), generator RSS at most {2:.1f} MB'.format(small_rate, small_rate / ceiling, small_rss)))
        step('bulk mailing to {0} users, with {1} instant notifications during it'.format(BULK, INSTANT))
        probe = LatencyProbe(service, sink)
        meter = CpuMeter(service, sink_process.pid)
        big_rate, big_rss, big_time = bulk(service, sink, database_url, BULK, 'big', probe)
        big_cpu = meter.per_mail_ms(BULK)
        latencies = probe.latencies()
        rows.append(mailing_row(BULK, (big_rate, big_rss, big_time), ceiling))
        rows.append(('  CPU per mail ({0} cores)'.format(cores), big_cpu))
        rows.append(('memory, {0} vs {1} recipients'.format(BULK, BULK_SMALL), '{0:+.1f} % (generator RSS while expanding)'.format(100 * (big_rss - small_rss) / small_rss)))
        rows.append(peak_rss_row(service))
        rows.append(('instant during bulk ({0} posted)'.format(len(latencies)), 'p50 {0:.0f} ms, p99 {1:.0f} ms'.format(
            1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.99),
        )))
        rate_rows(service, sink, database_url, broker_url, rows)
        step('{0} WebSockets open on one API worker, pushes to their users'.format(socket_bench.SOCKETS))
        for socket_row in socket_bench.measure(database_url, broker_url):
            rows.append(socket_row)
    print_table(rows)


def bulk_only(
    service: Service, sink: SinkReader, sink_pid: int, database_url: str, ceiling: float,
) -> list[tuple[str, str]]:
    """``BENCH_ONLY=bulk``: one mailing of BENCH_BULK recipients (the 1,000,000 of docs/performance.md)."""
    step('bulk mailing to {0} users'.format(BULK))
    meter = CpuMeter(service, sink_pid)
    measured = bulk(service, sink, database_url, BULK, 'big')
    return [
        mailing_row(BULK, measured, ceiling),
        ('  CPU per mail ({0} cores)'.format(os.cpu_count()), meter.per_mail_ms(BULK)),
        peak_rss_row(service),
    ]


def mailing_row(count: int, measured: tuple[float, float, float], ceiling: float) -> tuple[str, str]:
    """The row of a big mailing: its rate, ratio, wall time and the generator's highest RSS."""
    rate, rss, elapsed = measured
    return ('bulk {0} recipients'.format(count), (
        '{0:.0f} mails/s ({1:.2f} × ceiling) in {2:.0f}s, generator RSS at most {3:.1f} MB'
    ).format(rate, rate / ceiling, elapsed, rss))


def peak_rss_row(service: Service) -> tuple[str, str]:
    """Every process's lifetime peak RSS."""
    return ('lifetime peak RSS per process', ', '.join(
        '{0} {1:.0f} MB'.format(name, peak_rss_mb(process.pid)) for name, process in service.processes.items()
    ))


def print_table(rows: 'Rows') -> None:
    width = max(len(label) for label, _ in rows)
    sys.stdout.write('\nnotifier bench on {0} ({1} cores)\n'.format(socket.gethostname(), os.cpu_count()))
    for label, figure in rows:
        sys.stdout.write('  {0:<{1}}  {2}\n'.format(label, width, figure))


class Rows(list[tuple[str, str]]):
    """The table's rows; each is also printed (stderr) as soon as it is measured."""

    def append(self, row: tuple[str, str]) -> None:
        say('  {0}: {1}'.format(*row))
        super().append(row)


def say(line: str) -> None:
    """A progress line on stderr, at once (the bench runs for minutes; stdout keeps the table)."""
    sys.stderr.write('bench: {0}\n'.format(line))
    sys.stderr.flush()


def step(label: str) -> None:
    """Say what the bench is doing now."""
    say('{0}…'.format(label))


if __name__ == '__main__':
    main()
