"""Which queues a consumer reads, as the breakers that guard them open, probe, recover and close.

When a breaker opens, the queues that depend on it are cancelled at once
(AMQP ``basic_cancel``): their messages stay in RabbitMQ, and the ones
prefetched but not started go back to the queue. A timer probes the
dependency; while it is probing or recovering its queues are read one
message at a time (prefetch 1, so a failing probe hands nothing back), and
once closed with the configured prefetch again.

Everything here runs on the connection's thread: after each message and in
the connection's timers. It knows nothing of AMQP beyond three calls.
"""

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Generic, Protocol, TypeVar

from notifier.models import BreakerPhase
from notifier.resilience.breaker import BreakerChange
from notifier.resilience.guards import Guard

logger = logging.getLogger(__name__)

Message = TypeVar('Message')
Message_co = TypeVar('Message_co', covariant=True)


class QueueBroker(Protocol[Message_co]):
    """What the switch needs of a broker connection."""

    def consume(self, queue: str, callback: Callable[[Message_co], None], prefetch: int) -> str:
        """Start consuming ``queue``; the consumer tag."""

    def cancel(self, consumer_tag: str) -> None:
        """Stop a consumer; its prefetched messages go back to the queue."""

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the connection's thread after ``seconds``."""


@dataclass
class Route(Generic[Message]):
    """A queue, what handles its messages, and the guard it depends on (``None``: always read)."""

    queue: str
    callback: Callable[[Message], None]
    guard: Guard | None = None
    consumer_tag: str | None = None
    prefetch: int = 0
    #: This queue's healthy prefetch when it is not the process's (a bulk lane's is smaller).
    healthy_prefetch: int | None = None
    #: Handles what the callback holds back (a batch being collected) before the queue is cancelled.
    drain: Callable[[], None] | None = None


class QueueSwitch(Generic[Message]):
    """Keeps each queue subscribed or cancelled as its breaker says."""

    def __init__(
        self,
        broker: QueueBroker[Message],
        prefetch: int,
        app_context: Callable[[], AbstractContextManager[object]],
        when_idle: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        """``prefetch`` is the healthy prefetch; timers run inside ``app_context()`` (breakers write rows).

        ``when_idle`` runs reconciling after a message and the probes once no work is in hand elsewhere
        (a process running its stages on another thread); by default they run at once.
        """
        self._broker = broker
        self._when_idle = when_idle or _at_once
        self._prefetch = prefetch
        self._app_context = app_context
        self._routes: list[Route[Message]] = []
        self._armed: set[str] = set()
        self._listened: set[str] = set()
        #: A breaker changed since the last reconcile (only then is there work after a message).
        self._changed = False
        self._session = 0
        self._halted = False

    @property
    def paused(self) -> bool:
        """Every queue is cancelled because its breaker is open (the process waits for a probe)."""
        return bool(self._routes) and all(
            route.consumer_tag is None and route.guard is not None and route.guard.breaker.is_open
            for route in self._routes
        )

    def connect(self, routes: Sequence[Route[Message]]) -> None:
        """A new connection: subscribe what may be read, arm the probes of open breakers."""
        self._session += 1
        self._armed.clear()
        self._routes = list(routes)
        for route in self._routes:
            route.consumer_tag = None
            if route.guard is not None and route.guard.breaker.name not in self._listened:
                self._listened.add(route.guard.breaker.name)
                route.guard.breaker.listen(self._on_change)
        self.reconcile()

    def halt(self) -> None:
        """Subscribe nothing from now on: the process is stopping (safe from any thread)."""
        self._halted = True

    def reconcile(self) -> None:
        """Subscribe, cancel or re-subscribe each queue as its breaker's phase asks; arm the timers."""
        with self._app_context():  # asking a recovering breaker its phase may record a step of its slow start
            self._reconcile()

    def settle(self) -> None:
        """Reconcile if a breaker changed (after a message or a batch was handled)."""
        if self._changed:
            self._when_idle(self.reconcile)  # a breaker this work opened stops the queue before the next message

    def _reconcile(self) -> None:
        self._changed = False
        if self._halted:
            return  # a probe must not subscribe again what stopping just cancelled
        for route in self._routes:
            self._sync(route)
            if route.guard is not None:
                self._arm(route.guard)

    def _on_message(self, route: Route[Message], message: Message) -> None:
        route.callback(message)
        self.settle()

    def _on_change(self, change: BreakerChange) -> None:
        self._changed = True

    def _wanted_prefetch(self, route: Route[Message]) -> int:
        """0: do not read; 1 while probing or recovering; else the configured prefetch."""
        healthy = route.healthy_prefetch or self._prefetch
        if route.guard is None:
            return healthy
        phase = route.guard.breaker.phase
        if phase == BreakerPhase.open:
            return 0
        return healthy if phase == BreakerPhase.closed else 1

    def _sync(self, route: Route[Message]) -> None:
        wanted = self._wanted_prefetch(route)
        if route.consumer_tag is not None and route.prefetch != wanted:
            if route.drain is not None:
                route.drain()
            self._broker.cancel(route.consumer_tag)
            route.consumer_tag = None
            if not wanted:
                logger.warning('stopped consuming %s: its circuit breaker is open', route.queue)
        if route.consumer_tag is None and wanted:
            route.consumer_tag = self._broker.consume(route.queue, partial(self._on_message, route), wanted)
            route.prefetch = wanted
            if route.guard is not None and route.guard.breaker.phase != BreakerPhase.closed:
                logger.info('consuming %s again, one message at a time', route.queue)

    def _arm(self, guard: Guard) -> None:
        breaker = guard.breaker
        if breaker.name in self._armed:
            return
        phase = breaker.phase
        if phase == BreakerPhase.open:
            delay = breaker.policy.probe_seconds
        elif phase == BreakerPhase.recovering:
            delay = breaker.policy.slow_start_seconds
        else:
            return
        self._armed.add(breaker.name)
        on_timer = partial(self._on_timer, guard, self._session)
        self._broker.call_later(delay, partial(self._when_idle, on_timer))

    def _on_timer(self, guard: Guard, session: int) -> None:
        """Probe an open breaker (a recovering one moves its slow start on when asked), then reconcile."""
        if session != self._session:
            return  # armed on an earlier connection
        self._armed.discard(guard.breaker.name)
        with self._app_context():
            if guard.breaker.phase == BreakerPhase.open:
                self._probe(guard)
            self._reconcile()

    def _probe(self, guard: Guard) -> None:
        try:
            guard.probe()
        except Exception as error:  # noqa: B902 - an error escaping a pika timer would stop the connection's loop
            logger.exception('probing circuit breaker %s failed', guard.breaker.name)
            guard.breaker.failed('the probe raised {0}: {1}'.format(type(error).__name__, error))


def _at_once(task: Callable[[], None]) -> None:
    task()
