"""Issue 19: a RabbitMQ cluster loses a node mid-mailing, then restarts node by node: nothing lost, nothing twice.

A three-node cluster of the test's own (tests/chaos/cluster.py) beside the machine's default node;
the service's processes get ``NOTIFIER_BROKER_URL`` listing the three nodes. A mailing of
NOTIFIER_CHAOS_CLUSTER_N recipients (default 10,000) plus NOTIFIER_CHAOS_N instant notifications
run through the full pipeline; the node leading the busiest queue is SIGKILLed in the middle.
Then a second mailing of the same size while every node is restarted in turn. Every mail is
counted at the SMTP sink. The recovery figures are printed (not asserted: the machine is shared).
"""

import collections
import functools
import itertools
import os
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pika
import psycopg
import pytest

from notifier.models.delivery import FINAL_STATES
from notifier.pipeline.broker_errors import node_urls
from tests.chaos import cluster
from tests.chaos.harness import REPO, VENV_BIN, ChaosRun, Layout, ScenarioResult, chaos_n, record, wait_until
from tests.chaos.services import Isolated, migrated_database
from tests.chaos.sink import ChaosSink, ReceivedMail
from tests.plugins.services import require_service

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

MAILING = int(os.environ.get('NOTIFIER_CHAOS_CLUSTER_N', '10000'))
VHOST = 'notifier-cluster'
CONSUMER_CONNECTION = 'notifier consume'
#: Seconds of the sink's record before the kill that give the rate to recover to, and the window measured after.
RATE_BEFORE = 10
RATE_WINDOW = 2
RECOVERED_SHARE = 0.5
MOVE_TIMEOUT = 180
INSTANT_EVERY = 1.0
INSTANT_BATCH = 3


@dataclass(frozen=True)
class ClusterIsolated(Isolated):
    """The scenario's database, and a vhost on our own cluster (asked of whichever node answers)."""

    nodes: tuple[cluster.Node, ...] = ()

    @property
    def broker_url(self) -> str:
        """Every node, separated by commas, as the service is configured."""
        return ','.join(node.url(quote(self.vhost, safe='')) for node in self.nodes)

    def ready_messages(self, queue: str) -> int:
        """Messages ready in one queue, asked over AMQP of a live node."""
        connection = pika.BlockingConnection([pika.URLParameters(url) for url in node_urls(self.broker_url)])
        try:
            declared = connection.channel().queue_declare(queue, passive=True)
        finally:
            connection.close()
        return int(declared.method.message_count or 0)

    def _listed(self, column: str) -> dict[str, int]:
        rows = queue_rows(self.nodes, self.vhost, column)
        return {row[0]: int(row[1]) for row in rows}


def live_node(nodes: Sequence[cluster.Node]) -> cluster.Node:
    """A node whose VM runs (the first one that answers rabbitmqctl)."""
    for node in nodes:
        if node.alive():
            return node
    raise RuntimeError('no node of the cluster runs')


def queue_rows(nodes: Sequence[cluster.Node], vhost: str, *columns: str) -> list[list[str]]:
    """``list_queues name <columns>`` of the vhost, from the first node that answers."""
    failure: Exception | None = None
    for node in nodes:
        if not node.alive():
            continue
        try:
            return cluster.queue_column(node, vhost, *columns)
        except RuntimeError as error:
            failure = error
    raise RuntimeError('no node answered list_queues: {0}'.format(failure))


def bulk_event(segment: str) -> dict[str, object]:
    """A mailing to every user of the segment."""
    return {
        'meta': {'scale': 'bulk', 'audience': {'segment': segment}},
        'type': 'info', 'fields': {'title': 'Premiere', 'text': 'For you'},
    }


def mailing_address(segment: str, number: int) -> str:
    """The address of user ``number`` of a mailing's segment."""
    return '{0}{1:07d}@example.com'.format(segment, number)


def add_users(isolated: Isolated, count: int, segment: str) -> None:
    """``count`` users in the directory, all in ``segment`` (COPY, as bench/run.py does)."""
    with psycopg.connect(isolated.libpq_url) as connection:
        with connection.cursor().copy('COPY users (id, email, name, push_tokens, updated_at) FROM STDIN') as copy:
            for number in range(count):
                address = mailing_address(segment, number)
                copy.write_row((address.split('@')[0], address, 'Viewer', '[]', '2026-01-01T00:00:00'))
        connection.execute(
            'INSERT INTO user_segments (segment, user_id) SELECT %s, id FROM users WHERE id LIKE %s',
            (segment, '{0}%'.format(segment)),
        )
        connection.commit()
        connection.execute('ANALYZE users, user_segments')


def consumer_ports(nodes: Sequence[cluster.Node]) -> collections.Counter[int]:
    """How many consume connections each node's AMQP port holds."""
    return collections.Counter(
        port for port, name in cluster.connections(live_node(nodes)) if name.startswith(CONSUMER_CONNECTION)
    )


def busiest_leader(run: ChaosRun, nodes: Sequence[cluster.Node]) -> tuple[cluster.Node, str]:
    """The node leading the deepest work queue that has consumers connected to it, and that queue."""
    rows = queue_rows(nodes, VHOST, 'messages', 'leader')
    ranked = sorted(rows, key=lambda row: int(row[1]), reverse=True)
    by_name = {node.name: node for node in nodes}
    connected = consumer_ports(nodes)
    for name, _, leader in ranked:
        node = by_name.get(leader)
        if node is not None and connected[node.port]:
            return node, name
    return by_name[ranked[0][2]], ranked[0][0]


def replicated(nodes: Sequence[cluster.Node]) -> bool:
    """Whether every queue of the vhost has all the nodes as members, all online."""
    try:
        rows = queue_rows(nodes, VHOST, 'members', 'online')
    except RuntimeError:
        return False
    # A process's own server-named queue (the live fan-out of each API process) is exclusive to its
    # connection, on one node by design: only the pipeline's queues are replicated.
    rows = [row for row in rows if not row[0].startswith('amq.gen-')]
    names = {node.name for node in nodes}
    return bool(rows) and all(
        all(name in row[1] and name in row[2] for name in names) for row in rows
    )


def mails_to(sink: ChaosSink, segment: str) -> int:
    """Mails the sink received for a mailing's segment (duplicates included)."""
    return sum(1 for mail in sink.mails() if mail.to.startswith(segment))


@dataclass(frozen=True)
class Recovery:
    """The sink's throughput around a fault."""

    before: float  # mails/s in the RATE_BEFORE seconds before the fault
    after: float  # mails/s in the RATE_BEFORE seconds after it
    first_mail: float | None  # seconds from the fault to the next mail
    longest_pause: float  # the longest time without a mail in the RATE_BEFORE seconds after it
    recovered: float | None  # seconds until a RATE_WINDOW window is back at half the rate before (after a pause)
    timeline: tuple[int, ...]  # mails per second, from 3 s before the fault to 12 s after

    def __str__(self) -> str:
        """One line of figures."""
        return (
            '{0:.0f} mails/s before, {1:.0f} after; next mail after {2}s, longest pause {3:.1f}s, rate back to '
            'half after {4}s; per second from -3 s: {5}'.format(
                self.before, self.after, _seconds(self.first_mail), self.longest_pause,
                _seconds(self.recovered), list(self.timeline),
            )
        )


def recovery(mails: Sequence[ReceivedMail], fault_at: float) -> Recovery:
    """The throughput figures around ``fault_at`` from the sink's record."""
    times = sorted(mail.received_at for mail in mails)
    before = sum(1 for moment in times if fault_at - RATE_BEFORE <= moment < fault_at) / RATE_BEFORE
    after = [moment for moment in times if fault_at <= moment < fault_at + RATE_BEFORE]
    points = [fault_at, *after, fault_at + RATE_BEFORE] if after else [fault_at, fault_at + RATE_BEFORE]
    pauses = [later - earlier for earlier, later in itertools.pairwise(points)]
    longest = max(pauses)
    pause_ends = points[pauses.index(longest) + 1]
    recovered = None
    for step in range(RATE_BEFORE * 4):
        start = pause_ends + step / 4
        window = sum(1 for moment in times if start <= moment < start + RATE_WINDOW) / RATE_WINDOW
        if window >= before * RECOVERED_SHARE:
            recovered = start - fault_at
            break
    timeline = tuple(
        sum(1 for moment in times if fault_at + second <= moment < fault_at + second + 1) for second in range(-3, 12)
    )
    first_mail = after[0] - fault_at if after else None
    return Recovery(before, len(after) / RATE_BEFORE, first_mail, longest, recovered, timeline)


def counted(run: ChaosRun, scenario: str, segments: Sequence[str], drain: float, kills: int) -> ScenarioResult:
    """The row: every instant notification and every mailing address once at the sink, every delivery sent."""
    expected = set(run.accepted) | {
        mailing_address(segment, number) for segment in segments for number in range(MAILING)
    }
    mails = run.sink.mails()
    by_to = collections.Counter(mail.to for mail in mails)
    by_id = collections.Counter(mail.message_id for mail in mails)
    states = collections.Counter(
        {str(state): int(str(total)) for state, total in run.isolated.query(
            "SELECT state, count(*) FROM deliveries WHERE channel = 'email' GROUP BY state",
        )},
    )
    received = set(by_to) & expected
    outcome = ScenarioResult(
        scenario=scenario,
        sent=len(expected),
        expected=len(expected),
        received=len(received),
        lost=len(expected - received),
        duplicated=max(sum(by_id.values()) - len(by_id), sum(by_to.values()) - len(by_to)),
        parked=run.parked(),
        drain_seconds=drain,
        kills=kills,
        crashes=len(run.supervisor.exits),
        not_final=sum(total for state, total in states.items() if state not in FINAL_STATES),
        unexpected=len(set(by_to) - expected),
    )
    outcome.db_mismatch = abs(states['sent'] - len(by_to))
    outcome.details = {
        'lost': sorted(expected - received)[:20],
        'duplicated': sorted(mail_id for mail_id, seen in by_id.items() if seen > 1)[:20],
        'states': states,
        'exits': run.supervisor.exits,
    }
    record(outcome)
    return outcome


def assert_exact(outcome: ScenarioResult, run: ChaosRun) -> None:
    """0 lost, 0 twice, no process exit, every delivery sent, nothing parked."""
    context = '{0}\n{1}'.format(outcome.details, run.supervisor.logs()[-6000:])
    assert outcome.lost == 0, context
    assert outcome.duplicated == 0, context
    assert outcome.unexpected == 0, context
    assert outcome.not_final == 0, context
    assert outcome.db_mismatch == 0, context
    assert outcome.parked == 0, context
    assert outcome.crashes == 0, context


def settle(run: ChaosRun, segment: str) -> float:
    """Wait for the whole mailing at the sink and for a quiet pipeline; seconds since the first post."""
    wait_until(lambda: mails_to(run.sink, segment) >= MAILING, 600 + MAILING * 0.1, 'the whole mailing')
    return run.wait_quiet(120)


@pytest.fixture
def cluster_run(sink: ChaosSink, tmp_path: Path) -> Iterator[tuple[ChaosRun, list[cluster.Node]]]:
    """The service on our own three-node cluster (stopped at the end, whatever happened)."""
    require_service('PostgreSQL', '127.0.0.1', 5432)
    with cluster.running_cluster() as nodes:
        cluster.ctl(nodes[0], 'add_vhost', VHOST)
        cluster.ctl(nodes[0], 'set_permissions', '-p', VHOST, 'guest', '.*', '.*', '.*')
        isolated = ClusterIsolated(VHOST, 'chaos_cluster_{0}'.format(uuid.uuid4().hex[:8]), tuple(nodes))
        with migrated_database(isolated, VENV_BIN, str(REPO)):
            sink.reset()
            run = ChaosRun('cluster', isolated, sink, tmp_path, Layout(senders=2))
            try:
                run.start()
                yield run, nodes
            except BaseException:
                print('process logs (warnings and errors):\n{0}'.format(run.supervisor.logs()[-8000:]))  # noqa: WPS421
                raise
            finally:
                run.supervisor.stop()


@dataclass(frozen=True)
class Kill:
    """Which node was killed, when, and who was connected to it."""

    victim: cluster.Node
    queue: str
    connected: collections.Counter[int]
    at: float
    after_mails: int


def all_connected(nodes: Sequence[cluster.Node], consumers: int) -> bool:
    """Whether every consume connection is back, on these nodes."""
    try:
        return sum(consumer_ports(nodes).values()) == consumers
    except RuntimeError:
        return False


def on_live_nodes(kill: Kill, nodes: Sequence[cluster.Node]) -> bool:
    """Whether every consume connection of before the kill is back, none on the killed node."""
    live = [node for node in nodes if node is not kill.victim]
    try:
        ports = consumer_ports(live)
    except RuntimeError:
        return False
    return sum(ports.values()) == sum(kill.connected.values()) and not ports[kill.victim.port]


def kill_busiest_leader(run: ChaosRun, nodes: Sequence[cluster.Node]) -> Kill:
    """The leader of the busiest queue SIGKILLed at a quarter of the mailing, instant notifications flowing."""
    with run.posting(chaos_n()):
        # rabbitmqctl takes seconds here: look while the mailing starts, kill when a quarter is out
        wait_until(lambda: mails_to(run.sink, 'k') >= MAILING // 20, 600, 'the mailing to start')
        victim, queue = busiest_leader(run, nodes)
        connected = consumer_ports(nodes)
        wait_until(lambda: mails_to(run.sink, 'k') >= MAILING // 4, 600, 'a quarter of the mailing')
        kill = Kill(victim, queue, connected, time.monotonic(), mails_to(run.sink, 'k'))
        cluster.kill(victim)
    return kill


def kill_mid_mailing(run: ChaosRun, nodes: list[cluster.Node]) -> None:
    """Phase 1: a mailing, the node leading its busiest queue SIGKILLed; then that node started again."""
    add_users(run.isolated, MAILING, 'k')
    run.api_post('/api/v1/events', bulk_event('k'), 'cluster-mailing-k')
    kill = kill_busiest_leader(run, nodes)
    wait_until(functools.partial(on_live_nodes, kill, nodes), MOVE_TIMEOUT, 'every consumer on a live node')
    moved_after = time.monotonic() - kill.at
    outcome = counted(run, 'cluster: node leading {0} SIGKILLed'.format(kill.queue), ['k'], settle(run, 'k'), 1)
    figures = recovery(run.sink.mails(), kill.at)
    print(  # noqa: WPS421 - the figures are the output
        '\nkilled {0} (leader of {1}) at {2} of {3} mails; consumers on it: {4} of {5}, all on live nodes '
        'after {6:.1f}s; {7}'.format(
            kill.victim.name, kill.queue, kill.after_mails, MAILING, kill.connected[kill.victim.port],
            sum(kill.connected.values()), moved_after, figures,
        ),
    )
    assert kill.connected[kill.victim.port] > 0, 'no consumer on {0}: {1}'.format(kill.victim.name, kill.connected)
    assert kill.after_mails < MAILING, 'the mailing was over before the kill: raise NOTIFIER_CHAOS_CLUSTER_N'
    assert figures.first_mail is not None, 'no mail after the kill'
    assert figures.recovered is not None, 'the rate never came back: {0}'.format(figures)
    assert_exact(outcome, run)
    cluster.start(kill.victim)
    cluster.await_running(kill.victim)
    wait_until(functools.partial(replicated, nodes), MOVE_TIMEOUT, 'every queue back on three online members')


def restart_each(nodes: list[cluster.Node], consumers: int) -> list[tuple[str, float, float]]:
    """Every node restarted in turn, each once the others have every queue online; (name, when, seconds)."""
    restarts = []
    for node in nodes:
        restarted_at = time.monotonic()
        cluster.restart(node)
        wait_until(functools.partial(replicated, nodes), MOVE_TIMEOUT, 'every queue back on three online members')
        wait_until(functools.partial(all_connected, nodes, consumers), MOVE_TIMEOUT, 'every consumer connected')
        restarts.append((node.name, restarted_at, time.monotonic() - restarted_at))
    return restarts


def rolling_restart(run: ChaosRun, nodes: list[cluster.Node]) -> None:
    """Phase 2: every node restarted in turn while a second mailing and instant notifications flow."""
    add_users(run.isolated, MAILING, 'r')
    consumers = sum(consumer_ports(nodes).values())
    posted = itertools.count(chaos_n(), INSTANT_BATCH)
    run.started_at = time.monotonic()
    run.api_post('/api/v1/events', bulk_event('r'), 'cluster-mailing-r')
    with run.meanwhile(lambda: run.post(INSTANT_BATCH, first=next(posted)), INSTANT_EVERY):
        wait_until(lambda: mails_to(run.sink, 'r') >= MAILING // 10, 600, 'a tenth of the second mailing')
        restarts = restart_each(nodes, consumers)
    outcome = counted(run, 'cluster: rolling restart of 3 nodes', ['k', 'r'], settle(run, 'r'), 0)
    mails = run.sink.mails()
    figures = [(name, took, recovery(mails, at)) for name, at, took in restarts]
    lines = ['{0} restarted in {1:.1f}s: {2}'.format(name, took, figure) for name, took, figure in figures]
    print('\nrolling restart under load:\n{0}'.format('\n'.join(lines)))  # noqa: WPS421 - the figures
    outcome.details['restarts'] = lines
    assert all(figure.first_mail is not None for _, _, figure in figures), lines
    assert_exact(outcome, run)


def _seconds(figure: float | None) -> str:
    return 'never' if figure is None else '{0:.1f}'.format(figure)


def test_cluster_node_killed_mid_mailing_then_rolling_restart(cluster_run: tuple[ChaosRun, list[cluster.Node]]) -> None:
    """Both phases on one cluster: 0 lost, 0 duplicated, consumers moved, throughput back."""
    run, nodes = cluster_run
    wait_until(lambda: replicated(nodes), MOVE_TIMEOUT, 'every queue on three online members')
    kill_mid_mailing(run, nodes)
    rolling_restart(run, nodes)
