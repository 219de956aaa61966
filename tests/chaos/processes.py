"""The service as real ``notifier run …`` subprocesses, restarted when they die (as systemd would)."""

import collections
import logging
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

RESTART_DELAY = 0.5
POLL_SECONDS = 0.1
STOP_TIMEOUT = 15


@dataclass(frozen=True)
class ProcessSpec:
    """One long-running process: its name, arguments and extra environment."""

    name: str
    arguments: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    restart: bool = True


@dataclass
class _Running:
    spec: ProcessSpec
    popen: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    started_at: float = 0


class Supervisor:
    """Starts processes, restarts the ones that exit, and remembers every exit code."""

    def __init__(self, executable: str, env: Mapping[str, str], log_dir: Path) -> None:
        self._executable = executable
        self.env = dict(env)
        self._log_dir = log_dir
        self._lock = threading.RLock()
        self._running: dict[str, _Running] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name='chaos-supervisor', daemon=True)
        #: (process name, exit code) of every exit while supervised.
        self.exits: list[tuple[str, int]] = []
        #: SIGKILLs sent by the harness itself, per process name.
        self.harness_kills = collections.Counter[str]()

    def start(self, specs: Sequence[ProcessSpec]) -> None:
        """Start every process, then watch them."""
        with self._lock:
            for spec in specs:
                self._running[spec.name] = _Running(spec)
                self._spawn(self._running[spec.name])
        self._thread.start()

    def kill_random(self, prefix: str, rng: random.Random) -> str | None:
        """SIGKILL one live process whose name starts with ``prefix``; its name."""
        with self._lock:
            alive = [
                running for running in self._running.values()
                if running.spec.name.startswith(prefix) and running.popen and running.popen.poll() is None
            ]
            if not alive:
                return None
            victim = rng.choice(alive)
            victim.popen.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
            self.harness_kills[victim.spec.name] += 1
            return victim.spec.name

    def self_kills(self, prefix: str) -> int:
        """SIGKILL exits of matching processes that the harness did not cause (crash points)."""
        with self._lock:
            killed = sum(1 for name, code in self.exits if name.startswith(prefix) and code == -signal.SIGKILL)
            by_harness = sum(count for name, count in self.harness_kills.items() if name.startswith(prefix))
        return killed - by_harness

    def other_exits(self) -> list[tuple[str, int]]:
        """Exits that were not SIGKILL: the process crashed or gave up on its own."""
        with self._lock:
            return [(name, code) for name, code in self.exits if code != -signal.SIGKILL]

    def stop(self) -> dict[str, int | None]:
        """SIGTERM everything, SIGKILL what is left after a while; the final exit codes."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        codes: dict[str, int | None] = {}
        with self._lock:
            for running in self._running.values():
                if running.popen is not None and running.popen.poll() is None:
                    running.popen.send_signal(signal.SIGTERM)
            for running in self._running.values():
                codes[running.spec.name] = self._reap(running)
        return codes

    def logs(self) -> str:
        """Warnings and errors of every process log (for a failure report)."""
        lines = []
        for log_file in sorted(self._log_dir.glob('*.log')):
            for line in log_file.read_text(errors='replace').splitlines():
                if any(word in line for word in ('WARNING', 'ERROR', 'Traceback', 'Error', 'CRITICAL')):
                    lines.append('{0}: {1}'.format(log_file.stem, line))
        return '\n'.join(lines)

    def _reap(self, running: _Running) -> int | None:
        popen = running.popen
        if popen is None:
            return None
        try:
            code = popen.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            popen.kill()
            code = popen.wait()
        if running.log is not None:
            running.log.close()
        return code

    def _spawn(self, running: _Running) -> None:
        spec = running.spec
        if running.log is None:
            running.log = (self._log_dir / '{0}.log'.format(spec.name)).open('ab')
        running.log.write('--- start {0:.1f}\n'.format(time.monotonic()).encode())
        running.log.flush()
        running.popen = subprocess.Popen(  # noqa: S603 - our own executable, fixed arguments
            [self._executable, *spec.arguments],
            env={**self.env, **spec.env},
            cwd=self._log_dir,
            stdout=running.log,
            stderr=subprocess.STDOUT,
        )
        running.started_at = time.monotonic()

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            with self._lock:
                for running in self._running.values():
                    self._check(running)

    def _check(self, running: _Running) -> None:
        popen = running.popen
        if popen is None or popen.poll() is None:
            return
        self.exits.append((running.spec.name, popen.returncode))
        running.popen = None
        logger.info('%s exited with %s', running.spec.name, popen.returncode)
        if running.spec.restart:
            quick = time.monotonic() - running.started_at < RESTART_DELAY * 4
            time.sleep(RESTART_DELAY * 2 if quick else RESTART_DELAY)
            self._spawn(running)


def child_env(base: Mapping[str, str], settings: Mapping[str, str]) -> dict[str, str]:
    """The environment of the service processes: no NOTIFIER_* of ours leaks in but ``settings``."""
    env = {name: setting for name, setting in base.items() if not name.startswith('NOTIFIER_')}
    env.update(settings)
    env.setdefault('PYTHONUNBUFFERED', '1')
    return env


def executable_in(venv_bin: str) -> str:
    """The ``notifier`` console script of the venv."""
    return os.path.join(venv_bin, 'notifier')
