"""Faults a scenario injects from outside the processes: messages and broker operations."""

import json
import random
import subprocess
import time
from collections.abc import Sequence

import pika

from tests.chaos.harness import EMAIL_TIMEOUT_SECONDS, FIRST_TIER_SECONDS, NOTIFIER, ChaosRun
from tests.chaos.services import rabbitmqctl
from tests.chaos.sink import ReceivedMail

EXCHANGE = 'notifier'
PARK_REASON_HEADER = 'x-notifier-park-reason'
REQUEUE_TIMEOUT = 60
POISON_ROUTES = ('notifications', 'generator', 'worker', 'channel.email')
_UNKNOWN_ID = '00000000-0000-0000-0000-000000000000'
#: Per route: not JSON, JSON but not an object, an object of the wrong shape, and a well-formed one naming nothing.
POISON_BODIES = {
    'notifications': (b'\xff\xfenot json', b'[1, 2, 3]', b'{"hello": "world"}', {'notification_id': _UNKNOWN_ID}),
    'generator': (b'{{{', b'"a string"', b'{"notification": 1}', {'notification_id': _UNKNOWN_ID}),
    'worker': (b'', b'42', b'{"email": "x@example.com"}', {
        'notification_id': _UNKNOWN_ID, 'channel': 'email', 'email': 'ghost@example.com',
        'template': 'info', 'locale': 'ru', 'fields': {},
    }),
    'channel.email': (b'<xml/>', b'null', b'{"delivery_id": 7}', {
        'delivery_id': _UNKNOWN_ID, 'notification_id': _UNKNOWN_ID, 'channel': 'email',
        'email': 'ghost@example.com', 'content': {'subject': 's', 'html': 'h', 'text': 't'},
    }),
}


def publish_poison(run: ChaosRun) -> int:
    """Publish every poison body straight into its queue (confirmed, mandatory); how many."""
    connection = pika.BlockingConnection(pika.URLParameters(run.isolated.broker_url))
    published = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        for route, bodies in POISON_BODIES.items():
            for body in bodies:
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                channel.basic_publish(
                    EXCHANGE, route, raw,
                    pika.BasicProperties(delivery_mode=2, message_id='poison-{0}'.format(published)),
                    mandatory=True,
                )
                published += 1
    finally:
        connection.close()
    return published


def _park_reason(headers: dict[str, object]) -> str:
    reason = headers.get(PARK_REASON_HEADER)
    if reason:
        return str(reason)
    return 'dead-lettered by RabbitMQ: {0}'.format(headers.get('x-first-death-reason', '?'))


def parked_reasons(run: ChaosRun, limit: int) -> list[str]:
    """The park reasons of up to ``limit`` parking-lot messages (they stay parked)."""
    connection = pika.BlockingConnection(pika.URLParameters(run.isolated.broker_url))
    reasons = []
    try:
        channel = connection.channel()
        for _ in range(limit):
            method, properties, _body = channel.basic_get('notifier.parking-lot', auto_ack=False)
            if method is None:
                break
            reasons.append(_park_reason(properties.headers or {}))
    finally:
        connection.close()  # unacked messages go back to the parking lot
    return reasons


def close_connections(run: ChaosRun) -> None:
    """Force-close every AMQP connection of the scenario's vhost."""
    rabbitmqctl('close_all_connections', '-p', run.isolated.vhost, 'chaos')


def kill_consumer(run: ChaosRun, rng: random.Random) -> None:
    """SIGKILL one consume process at random."""
    run.supervisor.kill_random('consume', rng)


def terminate_database_connections(run: ChaosRun) -> None:
    """``pg_terminate_backend`` every connection of the scenario's database."""
    run.isolated.terminate_connections()


def resent_too_soon(run: ChaosRun) -> list[float]:
    """Gaps between two copies of a mail shorter than the client's timeout plus the first retry tier.

    A copy sent again at once on a new connection (issue 17, defect 4) follows its first within the
    timeout; the retry tier's copy only after the timeout and the tier's delay (a queue TTL: a lower bound).
    """
    soonest = EMAIL_TIMEOUT_SECONDS + FIRST_TIER_SECONDS
    return [gap for gap in resend_gaps(run.sink.mails()) if gap < soonest]


def resend_gaps(mails: Sequence[ReceivedMail]) -> list[float]:
    """For each mail received more than once, the seconds between each copy and the one before it."""
    arrivals: dict[str, list[float]] = {}
    for mail in mails:
        arrivals.setdefault(mail.message_id, []).append(mail.received_at)
    gaps = []
    for moments in arrivals.values():
        ordered = sorted(moments)
        gaps.extend(later - earlier for earlier, later in zip(ordered, ordered[1:]))
    return gaps


def wait_for_mails(run: ChaosRun, count: int, timeout: float) -> None:
    """Wait until the sink received ``count`` mails (so a fault lands mid-batch) or time runs out."""
    deadline = time.monotonic() + timeout
    while len(run.sink.mails()) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def requeue_parking_lot(run: ChaosRun) -> str:
    """``notifier dlq requeue --all`` against the scenario's services; what it printed."""
    try:
        completed = subprocess.run(  # noqa: S603 - our own console script
            [NOTIFIER, 'dlq', 'requeue', '--all'],
            env={**run.supervisor.env, 'NOTIFIER_CRASH_POINTS': ''},
            capture_output=True, text=True, timeout=REQUEUE_TIMEOUT, check=True,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            '`notifier dlq requeue --all` did not finish in {0}s; parked now: {1}'.format(
                REQUEUE_TIMEOUT, run.parked(),
            ),
        ) from error
    return completed.stdout
