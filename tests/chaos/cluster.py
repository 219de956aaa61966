"""A three-node RabbitMQ cluster of the test's own beside the machine's default node (never touched).

The recipe of shared/spec/pitfalls.md ("A three-node cluster on one machine"): nodes
c1..c3@localhost, AMQP ports 5701-5703, distribution ports 25701-25703, data dirs under
one base directory owned by the ``rabbitmq`` user (the Debian wrapper drops to it).
Only the nodes started here are stopped or killed, and only by their own pid or name.
"""

import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

BASE = Path(os.environ.get('NOTIFIER_CHAOS_CLUSTER_DIR', '/tmp/notifier-chaos-cluster'))  # noqa: S108 - test data
RABBITMQCTL = shlex.split(os.environ.get('NOTIFIER_TEST_RABBITMQCTL', 'rabbitmqctl'))
RABBITMQ_SERVER = os.environ.get('NOTIFIER_TEST_RABBITMQ_SERVER', 'rabbitmq-server')
OWNER = 'rabbitmq:rabbitmq'
FIRST_PORT = 5701
DIST_OFFSET = 20000
MANAGEMENT_OFFSET = 10000
START_TIMEOUT = 240
CTL_TIMEOUT = 120
NODE_COUNT = 3
_CONNECTION_NAME = re.compile(r'\{"connection_name",\s*"([^"]*)"\}')


@dataclass(frozen=True)
class Node:
    """One node of the cluster: its name, ports and data dir."""

    index: int

    @property
    def name(self) -> str:
        return 'c{0}@localhost'.format(self.index)

    @property
    def port(self) -> int:
        return FIRST_PORT + self.index - 1

    @property
    def directory(self) -> Path:
        return BASE / 'c{0}'.format(self.index)

    def url(self, vhost: str = '%2F') -> str:
        """The AMQP URL of this node."""
        return 'amqp://guest:guest@127.0.0.1:{0}/{1}'.format(self.port, vhost)

    def pid(self) -> int | None:
        """The pid of the node's Erlang VM, from its pid file."""
        try:
            return int((self.directory / 'pid').read_text().strip())
        except (OSError, ValueError):
            return None

    def alive(self) -> bool:
        """Whether the node's VM runs."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def ctl(node: Node, *arguments: str, timeout: float = CTL_TIMEOUT) -> str:
    """rabbitmqctl against one of our nodes; a failure raises with what it said."""
    completed = subprocess.run(
        [*RABBITMQCTL, '-n', node.name, *arguments], capture_output=True, text=True, timeout=timeout, check=False,
    )
    if completed.returncode:
        raise RuntimeError('rabbitmqctl -n {0} {1} failed: {2}{3}'.format(
            node.name, ' '.join(arguments), completed.stdout, completed.stderr,
        ))
    return completed.stdout


def start(node: Node) -> None:
    """Start the node detached (it keeps its data dir: a restarted node rejoins its cluster)."""
    if shutil.which(RABBITMQ_SERVER) is None or os.geteuid() != 0:
        raise RuntimeError('the cluster scenario starts {0} as root (it chowns the data dirs)'.format(
            RABBITMQ_SERVER,
        ))
    directory = node.directory
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'rabbitmq.conf').write_text(
        'listeners.tcp.default = 127.0.0.1:{0}\nmanagement.tcp.port = {1}\n'.format(
            node.port, node.port + MANAGEMENT_OFFSET,
        ),
    )
    subprocess.run(['chown', '-R', OWNER, str(BASE)], check=True, timeout=CTL_TIMEOUT)  # noqa: S603, S607
    env = {
        **os.environ,
        'RABBITMQ_NODENAME': node.name,
        'RABBITMQ_NODE_PORT': str(node.port),
        'RABBITMQ_DIST_PORT': str(node.port + DIST_OFFSET),
        'RABBITMQ_MNESIA_BASE': str(directory / 'mnesia'),
        'RABBITMQ_LOG_BASE': str(directory / 'log'),
        'RABBITMQ_CONFIG_FILE': str(directory / 'rabbitmq'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': str(directory / 'enabled_plugins'),
        'RABBITMQ_PID_FILE': str(directory / 'pid'),
    }
    subprocess.run(  # noqa: S603 - the machine's rabbitmq-server, fixed arguments
        [RABBITMQ_SERVER, '-detached'], env=env, check=True, timeout=CTL_TIMEOUT, capture_output=True,
    )


def await_running(node: Node, timeout: float = START_TIMEOUT) -> None:
    """Block until the node's app runs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctl(node, 'await_startup', '--timeout', '30', timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
        else:
            return


def kill(node: Node) -> None:
    """SIGKILL the node's VM (a crash: no goodbye to its cluster or its clients)."""
    pid = node.pid()
    if pid is None:
        raise RuntimeError('no pid file for {0}'.format(node.name))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + CTL_TIMEOUT
    while node.alive() and time.monotonic() < deadline:
        time.sleep(0.1)


def stop(node: Node) -> None:
    """Stop the node cleanly (``rabbitmqctl stop``), or SIGKILL it when it does not stop."""
    if not node.alive():
        return
    with suppress(RuntimeError, subprocess.TimeoutExpired):
        ctl(node, 'stop', timeout=CTL_TIMEOUT)
    if node.alive():
        kill(node)


def restart(node: Node) -> None:
    """A node of a rolling restart: stopped cleanly, started again, back in the cluster."""
    stop(node)
    start(node)
    await_running(node)


def queue_column(node: Node, vhost: str, *columns: str) -> list[list[str]]:
    """``list_queues`` rows of the vhost, asked of one live node."""
    listed = ctl(node, 'list_queues', '-p', vhost, '--quiet', '--no-table-headers', 'name', *columns)
    return [line.split('\t') for line in listed.splitlines() if line.strip()]


def connections(node: Node) -> list[tuple[int, str]]:
    """(server port, connection name) of every client connection of the cluster."""
    listed = ctl(node, 'list_connections', '--quiet', '--no-table-headers', 'port', 'client_properties')
    found = []
    for line in listed.splitlines():
        port, _, properties = line.partition('\t')
        if port.strip().isdigit():
            found.append((int(port), _connection_name(properties)))
    return found


def _connection_name(properties: str) -> str:
    found = _CONNECTION_NAME.search(properties)
    return found.group(1) if found else ''


NODES = tuple(Node(index) for index in range(1, NODE_COUNT + 1))


def _form(nodes: Sequence[Node], started: list[Node]) -> None:
    for node in nodes:
        start(node)
        started.append(node)
    for node in nodes:
        await_running(node)
    for joining in nodes[1:]:
        ctl(joining, 'stop_app')
        ctl(joining, 'join_cluster', nodes[0].name)
        ctl(joining, 'start_app')
        await_running(joining)


def _stop_quietly(node: Node) -> None:
    try:
        stop(node)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        logger.warning('stopping %s failed: %s', node.name, error)


@contextmanager
def running_cluster(nodes: Sequence[Node] = NODES) -> Iterator[list[Node]]:
    """Start the nodes, cluster them to the first one; always stop exactly these nodes and drop their data."""
    shutil.rmtree(BASE, ignore_errors=True)
    started: list[Node] = []
    try:
        _form(nodes, started)
        yield list(nodes)
    finally:
        for node in started:
            _stop_quietly(node)
        shutil.rmtree(BASE, ignore_errors=True)
