"""A circuit breaker: closed, open, probing, recovering (slow start), and back to closed.

It is a plain state machine with an injected clock; who calls it decides what
a failure is (:mod:`notifier.resilience.guards`) and what opening means (the
consumer stops consuming the queues that depend on it,
:mod:`notifier.resilience.switch`).

- **closed**: calls go through; ``failures`` consecutive failures open it.
- **open**: calls are refused at once; after ``probe_seconds`` the owner probes.
- **probing**: one probe (a cheap call, or one message let through) decides:
  success starts the slow start, failure opens it again.
- **recovering**: calls go through at :meth:`CircuitBreaker.rate_factor` of
  the rate, starting at ``slow_start_fraction`` and doubling every
  ``slow_start_seconds`` without a failure; at the full rate it is closed again.
  ``failures`` consecutive failures open it again.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from notifier.models import BreakerPhase

logger = logging.getLogger(__name__)

PERCENT = 100


@dataclass(frozen=True)
class BreakerPolicy:
    """How a breaker opens, probes and ramps back up."""

    #: Consecutive failures that open the breaker.
    failures: int = 5
    #: Seconds between probes while open.
    probe_seconds: float = 10.0
    #: The share of the rate a recovering breaker starts at.
    slow_start_fraction: float = 0.1
    #: Seconds between doublings of the rate while recovering.
    slow_start_seconds: float = 5.0


@dataclass(frozen=True)
class BreakerChange:
    """A breaker entered ``phase`` (or moved on in its slow start) because of ``detail``."""

    name: str
    phase: str
    detail: str


#: Told about every change, on the thread that caused it.
Listener = Callable[[BreakerChange], None]


class CircuitBreaker:
    """One dependency's breaker (the user directory, a channel's provider) in one process."""

    def __init__(
        self, name: str, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A closed breaker called ``name`` (as shown in ``breaker_states``)."""
        self.name = name
        self.policy = policy
        self._clock = clock
        self._phase: str = BreakerPhase.closed
        self._consecutive_failures = 0
        self._factor = 1.0
        self._step_started: float = 0
        self._step_failed = False
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()

    @property
    def phase(self) -> str:
        """The current :class:`notifier.models.BreakerPhase` (the slow start moves on first)."""
        with self._lock:
            self._advance()
            return self._phase

    def rate_factor(self) -> float:
        """The share of the configured rate calls may use now: below 1 only while recovering."""
        with self._lock:
            self._advance()
            return self._factor if self._phase == BreakerPhase.recovering else 1.0

    @property
    def is_open(self) -> bool:
        """Open now (read without moving the slow start on, so it records nothing)."""
        return self._phase == BreakerPhase.open

    @property
    def allows_calls(self) -> bool:
        """Calls may go through (the breaker is not open)."""
        return self.phase != BreakerPhase.open

    def listen(self, listener: Listener) -> None:
        """Tell ``listener`` about every change from now on."""
        self._listeners.append(listener)

    def succeeded(self) -> None:
        """A call went through: a probe that succeeded starts the slow start."""
        with self._lock:
            self._advance()
            self._consecutive_failures = 0
            if self._phase == BreakerPhase.probing:
                self._factor = self.policy.slow_start_fraction
                self._start_step()
                self._change(BreakerPhase.recovering, _slow_start_detail(self._factor))

    def failed(self, detail: str) -> None:
        """A call failed in a way that says the dependency is unwell."""
        with self._lock:
            self._advance()
            if self._phase == BreakerPhase.open:
                return
            self._consecutive_failures += 1
            self._step_failed = True
            if self._phase == BreakerPhase.probing:
                self._change(BreakerPhase.open, 'probe failed: {0}'.format(detail))
            elif self._consecutive_failures >= self.policy.failures:
                self._change(BreakerPhase.open, '{0} failures in a row, the last: {1}'.format(
                    self._consecutive_failures, detail,
                ))

    def start_probe(self) -> bool:
        """An open breaker lets one probe through; False when it is not open."""
        with self._lock:
            if self._phase != BreakerPhase.open:
                return False
            self._change(BreakerPhase.probing, 'testing whether it recovered')
            return True

    def _advance(self) -> None:
        """Move the slow start on by the intervals that passed (each without a failure doubles the rate)."""
        if self._phase != BreakerPhase.recovering:
            return
        now = self._clock()
        while self._phase == BreakerPhase.recovering and now - self._step_started >= self.policy.slow_start_seconds:
            self._step_started += self.policy.slow_start_seconds
            if self._step_failed:
                self._step_failed = False
                continue
            self._factor = min(1.0, self._factor * 2)
            if self._factor >= 1:
                self._change(BreakerPhase.closed, 'recovered: back to the full rate')
            else:
                self._change(BreakerPhase.recovering, _slow_start_detail(self._factor))

    def _start_step(self) -> None:
        self._step_started = self._clock()
        self._step_failed = False

    def _change(self, phase: str, detail: str) -> None:
        self._phase = phase
        if phase != BreakerPhase.recovering:
            self._consecutive_failures = 0
            self._factor = 1.0
        change = BreakerChange(self.name, phase, detail)
        for listener in self._listeners:
            listener(change)


def _slow_start_detail(factor: float) -> str:
    return 'slow start at {0:g} % of the rate'.format(round(factor * PERCENT, 1))
