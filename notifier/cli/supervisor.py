"""``run all``: the three modes as child processes that live and die together."""

import signal
import subprocess  # noqa: S404 - we start our own command, with a fixed argument list
import sys
import time
from collections.abc import Sequence

from notifier.stopping import StopSignal

STOP_TIMEOUT_SECONDS = 20
POLL_SECONDS = 0.2


def _start(mode: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, '-m', 'notifier', 'run', mode])  # noqa: S603


def _stop_all(children: Sequence[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def supervise(modes: Sequence[str]) -> int:
    """Run one child per mode until a signal or until one exits; return the exit code."""
    stopping = StopSignal().install()
    children = [_start(mode) for mode in modes]
    exit_code = 0
    while not stopping.requested:
        ended = [child for child in children if child.poll() is not None]
        if ended:
            exit_code = ended[0].returncode or 1
            sys.stderr.write('notifier: `notifier run {0}` exited with {1}, stopping the others\n'.format(
                modes[children.index(ended[0])], ended[0].returncode,
            ))
            break
        time.sleep(POLL_SECONDS)
    _stop_all(children)
    return exit_code
