"""One chaos scenario: isolated services, the real processes, a batch of notifications, the count.

Everything is counted from the SMTP sink's own record (what a recipient would
see), then checked against each notification's history in the database.
"""

import collections
import json
import os
import threading
import time
from urllib import error as url_errors
from urllib import request as url_request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from notifier.models.delivery import FINAL_STATES, delivery_id_for
from tests.chaos.processes import ProcessSpec, Supervisor, child_env, executable_in
from tests.chaos.services import Isolated
from tests.chaos.sink import ChaosSink, free_port

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = str(REPO / '.venv' / 'bin')
NOTIFIER = executable_in(VENV_BIN)
TOKEN = 'chaos'
MAIL_DOMAIN = 'cinema.example'
PARKING_LOT = 'notifier.parking-lot'
POSTERS = 8
POST_TIMEOUT = 120.0
#: The service's SMTP timeout and first retry tier in every scenario.
EMAIL_TIMEOUT_SECONDS = 2
FIRST_TIER_SECONDS = 1
SETTLE_SECONDS = 1.5
STALL_SECONDS = 20
#: Extra seconds of quiescence timeout per process restart (a restart takes 5-30 s on a busy 2-core machine).
RESTART_ALLOWANCE = 30
STARTUP_FAILURES = 3
STAGE_POINTS = ('before_stage', 'before_forward', 'before_ack')
MAX_CRASH_PROBABILITY = 0.05
CRASHES_PER_POINT = 1.5
STAGES = ('router', 'generator', 'worker', 'sender')
COLUMNS = (
    'scenario', 'sent', 'expected', 'received', 'lost', 'duplicated', 'parked',
    'drain_seconds', 'kills', 'crashes', 'not_final', 'db_mismatch',
)
NOTHING: frozenset[str] = frozenset()
#: Every table row of this session, for the terminal summary and the report file.
SCENARIO_ROWS: list['ScenarioResult'] = []


def chaos_n() -> int:
    """How many notifications a scenario sends (NOTIFIER_CHAOS_N, default 30)."""
    return int(os.environ.get('NOTIFIER_CHAOS_N', '30'))


def message_id(notification_id: str, email: str) -> str:
    """The Message-ID the email channel gives this notification's mail."""
    return '<{0}@{1}>'.format(delivery_id_for(notification_id, email, 'email'), MAIL_DOMAIN)


def recipient(index: int) -> str:
    """A unique address per notification: one notification, one expected mail."""
    return 'u{0}@example.com'.format(index)


def info_event(email: str, index: int) -> dict[str, object]:
    """An immediate ``info`` notification to one address."""
    return {
        'meta': {'urgency': 'immediate', 'scale': 'individual', 'email': email, 'periodic': False},
        'type': 'info',
        'fields': {'title': 'Chaos {0}'.format(index), 'text': 'Notification number {0}'.format(index)},
    }


@dataclass
class ScenarioResult:
    """One row of the table."""

    scenario: str
    sent: int = 0
    expected: int = 0
    received: int = 0
    lost: int = 0
    duplicated: int = 0
    parked: int = 0
    drain_seconds: float = 0
    kills: int = 0
    crashes: int = 0
    not_final: int = 0
    db_mismatch: int = 0
    unexpected: int = 0
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def header(cls) -> str:
        """The table's header and separator (Markdown)."""
        return '| {0} |\n|{1}|'.format(' | '.join(COLUMNS), '|'.join('---' for _ in COLUMNS))

    def row(self) -> str:
        """This scenario as a Markdown table row."""
        cells = []
        for column in COLUMNS:
            cell = getattr(self, column)
            cells.append('{0:.1f}'.format(cell) if isinstance(cell, float) else str(cell))
        return '| {0} |'.format(' | '.join(cells))


def record(row: ScenarioResult) -> None:
    """Print the row, keep it for the summary and append it to NOTIFIER_CHAOS_REPORT if set."""
    SCENARIO_ROWS.append(row)
    print('\n{0}\n{1}'.format(ScenarioResult.header(), row.row()))  # noqa: WPS421 - the table is the output
    report = os.environ.get('NOTIFIER_CHAOS_REPORT')
    if report:
        path = Path(report)
        fresh = not path.exists() or not path.stat().st_size
        with path.open('a', encoding='utf-8') as report_file:
            if fresh:
                report_file.write('{0}\n'.format(ScenarioResult.header()))
            report_file.write('{0}\n'.format(row.row()))


@dataclass(frozen=True)
class Layout:
    """Which processes a scenario runs, and with which crash points."""

    senders: int = 2
    crash_points: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)

    def specs(self) -> list[ProcessSpec]:
        """API, scheduler and one consume process per stage (two senders)."""
        specs = [
            ProcessSpec('api', ('run', 'api', '--port', str(free_port()))),
            ProcessSpec('schedule', ('run', 'schedule')),
        ]
        for stage in STAGES:
            copies = self.senders if stage == 'sender' else 1
            for copy in range(copies):
                points = self.crash_points.get(stage)
                specs.append(ProcessSpec(
                    'consume-{0}-{1}'.format(stage, copy),
                    ('run', 'consume', '--only', stage),
                    {'NOTIFIER_CRASH_POINTS': points} if points else {},
                ))
        return specs


class ChaosRun:
    """The service running against one isolated vhost + database and the sink."""

    def __init__(self, name: str, isolated: Isolated, sink: ChaosSink, workdir: Path, layout: Layout) -> None:
        self._name = name
        self.isolated = isolated
        self.sink = sink
        self._specs = layout.specs()
        self._api_port = int(self._specs[0].arguments[-1])
        settings = {
            'NOTIFIER_DATABASE_URL': isolated.database_url,
            'NOTIFIER_BROKER_URL': isolated.broker_url,
            'NOTIFIER_API_TOKENS': TOKEN,
            'NOTIFIER_EMAIL_URL': 'smtp://127.0.0.1:{0}'.format(sink.port),
            'NOTIFIER_EMAIL_TIMEOUT': str(EMAIL_TIMEOUT_SECONDS),
            'NOTIFIER_RETRY_DELAYS': '{0}s,2s,4s'.format(FIRST_TIER_SECONDS),
            # must be shorter than the retries (7 s) and longer than one SMTP attempt (timeout 2 s)
            'NOTIFIER_SENDING_LEASE': '4',
            'NOTIFIER_INSTANCE_DIR': str(workdir),
            'NOTIFIER_TEMPLATES_DIR': str(REPO / 'templates'),
            **layout.settings,
        }
        delivery_limit = os.environ.get('NOTIFIER_CHAOS_DELIVERY_LIMIT')
        if delivery_limit:  # an experiment knob: the product's default is what the suite proves
            settings['NOTIFIER_DELIVERY_LIMIT'] = delivery_limit
        self.supervisor = Supervisor(NOTIFIER, child_env(os.environ, settings), workdir)
        #: email -> notification id of every accepted notification.
        self.accepted: dict[str, str] = {}
        self.started_at = 0.0  # noqa: WPS358 - not started yet
        #: POST attempts that did not get a 202 (connection refused, 5xx) and were retried.
        self.post_retries = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start every process and wait until the API answers and every work queue has a consumer."""
        self.supervisor.start(self._specs)
        wait_until(self._ready, 90, 'the API and the consumers to start')

    def post(self, count: int, first: int = 0) -> None:
        """POST ``count`` notifications (retrying each with its Idempotency-Key until 202)."""
        if not self.started_at:
            self.started_at = time.monotonic()
        with ThreadPoolExecutor(POSTERS) as pool:
            for email, notification_id in pool.map(self._post_one, range(first, first + count)):
                self.accepted[email] = notification_id

    def api_post(self, path: str, body: Mapping[str, object], key: str) -> dict[str, object]:
        """POST JSON to the API with the token and an Idempotency-Key; the answer (202 expected)."""
        request = url_request.Request(  # noqa: S310 - our own local API
            'http://127.0.0.1:{0}{1}'.format(self._api_port, path),
            data=json.dumps(body).encode(),
            method='POST',
            headers={
                'Authorization': 'Bearer {0}'.format(TOKEN),
                'Content-Type': 'application/json',
                'Idempotency-Key': key,
            },
        )
        with url_request.urlopen(request, timeout=POST_TIMEOUT) as response:  # noqa: S310
            answer: dict[str, object] = json.load(response)
            return answer

    def expected_ids(self, excluded: frozenset[str] = NOTHING) -> dict[str, str]:
        """Message-ID -> email of every mail that should arrive."""
        return {
            message_id(notification_id, email): email
            for email, notification_id in self.accepted.items() if email not in excluded
        }

    def wait_quiet(self, timeout: float) -> float:
        """Wait until every delivery is final and the work queues are empty; seconds since the first post.

        Every process restart extends the timeout by ``RESTART_ALLOWANCE``.
        Gives up early when nothing has moved for ``STALL_SECONDS`` with the queues empty
        (deliveries stuck for good): the count then shows them as not final.
        """
        started = time.monotonic()
        progress = _Progress()
        while time.monotonic() < started + timeout + RESTART_ALLOWANCE * len(self.supervisor.exits):
            quiet, seen = self._quiet()
            if quiet and self._still_quiet():
                return time.monotonic() - self.started_at - SETTLE_SECONDS
            if progress.stalled(seen):
                return time.monotonic() - self.started_at - STALL_SECONDS
            time.sleep(0.5)
        return time.monotonic() - self.started_at

    @contextmanager
    def posting(self, count: int) -> Iterator[threading.Thread]:
        """POST ``count`` notifications in the background; the block ends after the last is accepted."""
        thread = threading.Thread(target=self.post, args=(count,), name='chaos-poster', daemon=True)
        self.started_at = time.monotonic()
        thread.start()
        try:
            yield thread
        finally:
            thread.join()

    def count(self, scenario: str, drain: float, excluded: frozenset[str] = NOTHING) -> ScenarioResult:
        """The table row, from the sink's record and the database."""
        expected = self.expected_ids(excluded)
        mails = self.sink.mails()
        by_id = collections.Counter(mail.message_id for mail in mails)
        by_to = collections.Counter(mail.to for mail in mails)
        states = self.delivery_states()
        received = {mail_id for mail_id in by_id if mail_id in expected}
        counted = ScenarioResult(
            scenario=scenario,
            sent=len(self.accepted),
            expected=len(expected),
            received=len(received),
            lost=len(set(expected) - received),
            duplicated=max(sum(by_id.values()) - len(by_id), sum(by_to.values()) - len(by_to)),
            parked=self.parked(),
            drain_seconds=drain,
            kills=sum(self.supervisor.harness_kills.values()) + self.supervisor.self_kills('consume'),
            crashes=len(self.supervisor.other_exits()),
            not_final=sum(1 for state in states.values() if state not in FINAL_STATES),
            unexpected=len(set(by_id) - set(self.expected_ids())),
        )
        sent_ids = {mail_id for mail_id, state in states.items() if state == 'sent'}
        counted.db_mismatch = len(sent_ids ^ (set(by_id) & set(states)))
        counted.details = {
            'lost': sorted(expected[mail_id] for mail_id in set(expected) - received)[:20],
            'duplicated': sorted(mail_id for mail_id, seen in by_id.items() if seen > 1)[:20],
            'states': collections.Counter(states.values()),
            'exits': self.supervisor.exits,
            'lost_status': _statuses(self, {expected[mail_id] for mail_id in set(expected) - received}),
            'outbox_unpublished': self.isolated.query('SELECT count(*) FROM outbox WHERE published_at IS NULL'),
        }
        return counted

    def delivery_states(self) -> dict[str, str]:
        """Message-ID -> delivery state of every accepted notification ('missing' when it has no row)."""
        rows = self.isolated.query("SELECT id, state FROM deliveries WHERE channel = 'email'")
        by_delivery = {str(delivery): str(state) for delivery, state in rows}
        states = {}
        for email, notification_id in self.accepted.items():
            delivery = delivery_id_for(notification_id, email, 'email')
            states['<{0}@{1}>'.format(delivery, MAIL_DOMAIN)] = by_delivery.get(delivery, 'missing')
        return states

    def parked(self) -> int:
        """Messages in the parking lot."""
        return self.isolated.ready_messages(PARKING_LOT)

    @contextmanager
    def meanwhile(self, action: Callable[[], None], every: float) -> Iterator[None]:
        """Run ``action`` every ``every`` seconds in the background while the block runs."""
        stop = threading.Event()
        thread = threading.Thread(target=_repeat, args=(stop, action, every), name='chaos-action', daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _post_one(self, index: int) -> tuple[str, str]:
        email = recipient(index)
        body = json.dumps(info_event(email, index)).encode()
        deadline = time.monotonic() + POST_TIMEOUT
        while True:
            answer = self._try_post(body, 'chaos-{0}-{1}'.format(self._name, index))
            if answer is not None:
                return email, answer
            with self._lock:
                self.post_retries += 1
            if time.monotonic() > deadline:
                raise AssertionError('the API never accepted notification {0}'.format(index))
            time.sleep(0.5)

    def _try_post(self, body: bytes, key: str) -> str | None:
        request = url_request.Request(  # noqa: S310 - our own local API
            'http://127.0.0.1:{0}/api/v1/events'.format(self._api_port),
            data=body,
            method='POST',
            headers={
                'Authorization': 'Bearer {0}'.format(TOKEN),
                'Content-Type': 'application/json',
                'Idempotency-Key': key,
            },
        )
        try:
            with url_request.urlopen(request, timeout=30) as response:  # noqa: S310
                if response.status != 202:
                    raise AssertionError('unexpected status {0}'.format(response.status))
                return str(json.load(response)['id'])
        except url_errors.HTTPError as error:
            if error.code < 500:
                raise AssertionError('the API refused notification {0}: {1} {2}'.format(
                    key, error.code, error.read()[:300],
                )) from None
            return None
        except (url_errors.URLError, ConnectionError, TimeoutError):
            return None

    def _ready(self) -> bool:
        failures = self.supervisor.other_exits()
        if len(failures) >= STARTUP_FAILURES:
            raise AssertionError('processes exit at start: {0}\n{1}'.format(failures, self.supervisor.logs()[-3000:]))
        try:
            with url_request.urlopen(  # noqa: S310 - our own local API
                'http://127.0.0.1:{0}/healthz'.format(self._api_port), timeout=2,
            ) as response:
                api_up = response.status == 200
        except (url_errors.URLError, ConnectionError, TimeoutError):
            return False
        return api_up and self._consumed()

    def _consumed(self) -> bool:
        listed = self.isolated.consumer_counts()
        work = [name for name in listed if name.startswith('notifier.') and '.delay.' not in name]
        return bool(work) and all(listed[name] for name in work if name != PARKING_LOT)

    def _still_quiet(self) -> bool:
        time.sleep(SETTLE_SECONDS)
        return self._quiet()[0]

    def _quiet(self) -> tuple[bool, tuple[object, ...] | None]:
        """Whether all is final and idle, and a fingerprint of the progress (None while queues are busy)."""
        try:
            states = self.delivery_states()
            depths = self.isolated.queue_depths()
        except Exception:  # noqa: B902 - a service down right now just means "not yet"
            return False, None
        busy = sum(count for name, count in depths.items() if name != PARKING_LOT)
        if busy:
            return False, None
        fingerprint = (tuple(sorted(collections.Counter(states.values()).items())), depths.get(PARKING_LOT, 0))
        return all(state in FINAL_STATES for state in states.values()), fingerprint


def _statuses(run: ChaosRun, emails: set[str]) -> collections.Counter[str]:
    ids = [run.accepted[email] for email in emails]
    rows = run.isolated.query('SELECT status FROM notifications WHERE id = ANY(%(ids)s)', {'ids': ids})
    return collections.Counter(str(row[0]) for row in rows)


class _Progress:
    """Notices when the fingerprint of the progress has not changed for ``STALL_SECONDS``."""

    def __init__(self) -> None:
        self._changed_at = time.monotonic()
        self._seen: object = None

    def stalled(self, seen: object) -> bool:
        if seen != self._seen:
            self._changed_at = time.monotonic()
            self._seen = seen
            return False
        return seen is not None and time.monotonic() - self._changed_at > STALL_SECONDS


def _repeat(stop: threading.Event, action: Callable[[], None], every: float) -> None:
    while not stop.wait(every):
        action()


Launcher = Callable[[str, Layout], AbstractContextManager[ChaosRun]]


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds, or fail naming ``what`` we waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError('timed out after {0}s waiting for {1}'.format(timeout, what))


def crash_spec(points: Sequence[str], probability: float) -> str:
    """``NOTIFIER_CRASH_POINTS`` for these points at this probability."""
    return ','.join('{0}={1:.4f}'.format(point, probability) for point in points)


def stage_crash_points(with_after_send: bool) -> dict[str, str]:
    """Crash points per stage, about one and a half crashes per point and batch.

    Without ``after_send``: every point of every stage, ``sender.after_claim`` included
    (nothing may be lost or sent twice). With it: only ``sender.after_send``, so that
    every SIGKILL of a sender is one crash inside the documented window.
    """
    probability = min(MAX_CRASH_PROBABILITY, CRASHES_PER_POINT / chaos_n())
    if with_after_send:
        return {'sender': crash_spec(['sender.after_send'], probability * 2)}
    points = {}
    for stage in STAGES:
        names = ['{0}.{1}'.format(stage, point) for point in STAGE_POINTS]
        if stage == 'sender':
            names.append('sender.after_claim')
        points[stage] = crash_spec(names, probability)
    return points
