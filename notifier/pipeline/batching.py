"""Collecting a queue's deliveries into batches, and chaining a process's stages.

A consumed queue's messages are held for a few milliseconds (or until half
the prefetch window is in hand) and then handed to the stage together: one
transaction, one publish, one ack for the lot. Everything here runs on the
connection's thread; the batch itself runs on the process's stage thread
(:mod:`notifier.pipeline.stage_thread`), one at a time.
"""

from collections.abc import Callable, Sequence
from functools import partial

from flask import Flask

from notifier.models import BreakerPhase
from notifier.pipeline import topology
from notifier.pipeline.envelopes import IncomingMessage
from notifier.pipeline.runner import ChainTarget, StageRunner, StageWiring
from notifier.pipeline.stage_thread import StageThread
from notifier.pipeline.stages import STAGES
from notifier.resilience import Guard, QueueSwitch, Route
from notifier.settings import Settings


class Batcher:
    """Holds one queue's deliveries until the batch is full or the linger passed, then hands them over."""

    def __init__(
        self,
        runner: StageRunner,
        stages: StageThread,
        limit: Callable[[], int],
        linger: float,
        settle: Callable[[], None],
    ) -> None:
        """``limit`` is the largest batch now; ``settle`` runs after a batch the timer started."""
        self._runner = runner
        self._stages = stages
        self._broker = stages.broker
        self._limit = limit
        self._linger = linger
        self._settle = settle
        self._held: list[IncomingMessage] = []
        self._full_armed = False
        self._linger_armed = False
        self._in_line = False

    def add(self, message: IncomingMessage) -> None:
        """Hold a delivered message; the batch runs from a timer, at once when it is full.

        Never from here: while a batch waits for the broker, pika reads the next deliveries of the same
        queue and would hand them on before any other queue's, so one busy queue would starve the others
        (an instant notification behind a whole mailing). Timers run in turn, queue by queue.
        """
        self._held.append(message)
        if len(self._held) >= self._limit() and not self._full_armed:
            self._full_armed = True
            self._broker.call_later(0, self._on_full)
        if not self._linger_armed:
            self._linger_armed = True
            self._broker.call_later(self._linger, self._on_linger)

    def flush(self) -> None:
        """Run what is held, here and now (nothing when nothing is): before the queue is cancelled.

        Called only while no batch is on the stage thread (:meth:`StageThread.when_idle`).
        """
        batch = self._held
        self._held = []
        if batch:
            self._runner.on_batch(batch)

    def _on_full(self) -> None:
        self._full_armed = False
        self._queue_up()

    def _on_linger(self) -> None:
        self._linger_armed = False
        self._queue_up()

    def _queue_up(self) -> None:
        """Wait for the stage thread, once in line: a queue's batch is taken when its turn comes."""
        if not self._in_line:
            self._in_line = True
            self._stages.when_idle(self._hand_over)

    def _hand_over(self) -> None:
        self._in_line = False
        limit = max(1, self._limit())
        batch = self._held[:limit]
        self._held = self._held[limit:]
        if batch:
            self._stages.start(partial(self._runner.on_batch, batch), self._settle)
        else:
            self._settle()
        if self._held:
            # Once this batch is handed over (in order: a batch is acked up to its highest tag), what came
            # meanwhile waits behind the other queues' turns.
            self._queue_up()


class ProcessRoutes:
    """The queues a process reads, each through its batcher, and the chains between its stages."""

    def __init__(
        self,
        wiring: StageWiring,
        settings: Settings,
        settle: Callable[[], None],
        guard_for: Callable[[str], Guard | None],
        stages: StageThread,
    ) -> None:
        """``settle`` reconciles the breakers after a batch; ``guard_for`` names a queue's breaker."""
        self._stages = stages
        self._wiring = wiring
        self._settings = settings
        self._settle = settle
        self._guard_for = guard_for
        self._routes: list[Route[IncomingMessage]] = []
        self._runners: list[StageRunner] = []
        self._targets: dict[str, ChainTarget] = {}

    def add(self, stage_name: str, channel_names: Sequence[str]) -> None:
        """A stage's runner and the routes of its queues."""
        spec = STAGES[stage_name]
        runner = StageRunner(self._wiring, stage_name, spec.function)
        self._runners.append(runner)
        for routing_key in spec.routing_keys(channel_names):
            bulk = routing_key.endswith(topology.BULK_LANE_SUFFIX)
            route = self._route(routing_key, runner, spec.bulk_batch_limit if bulk else None)
            self._routes.append(route)
            if _chainable(stage_name, routing_key):
                self._targets[routing_key] = ChainTarget(runner, partial(_reading, route))

    def chained(self) -> list[Route[IncomingMessage]]:
        """Chain every runner to the others' queues; the routes to subscribe."""
        for runner in self._runners:
            runner.chained = {
                routing_key: target for routing_key, target in self._targets.items() if target.runner is not runner
            }
        return self._routes

    def _route(self, routing_key: str, runner: StageRunner, batch_limit: int | None) -> Route[IncomingMessage]:
        """A queue read in batches; a bulk lane with its own prefetch, so instant messages wait behind few."""
        bulk = routing_key.endswith(topology.BULK_LANE_SUFFIX)
        route: Route[IncomingMessage] = Route(
            topology.queue_name(routing_key),
            runner.on_message,
            self._guard_for(routing_key),
            healthy_prefetch=self._settings.bulk_prefetch if bulk else None,
        )
        batcher = Batcher(
            runner,
            self._stages,
            partial(_batch_size, route, batch_limit),
            self._settings.batch_linger,
            self._settle,
        )
        route.callback = batcher.add
        route.drain = batcher.flush
        return route


def _batch_size(route: Route[IncomingMessage], batch_limit: int | None) -> int:
    """Half the queue's prefetch now (1 while its breaker probes), at most the stage's limit."""
    size = max(1, route.prefetch // 2)
    return min(size, batch_limit) if batch_limit else size


def _reading(route: Route[IncomingMessage]) -> bool:
    """Whether the queue is read, its breaker closed: only then is it chained (an open breaker stops both)."""
    guard = route.guard
    return route.consumer_tag is not None and (guard is None or guard.breaker.phase == BreakerPhase.closed)


def _chainable(stage_name: str, routing_key: str) -> bool:
    """Every queue of the process is chained, but a mailing's sends: they spread over every sender process."""
    return not (stage_name == 'sender' and routing_key.endswith(topology.BULK_LANE_SUFFIX))


def queue_switch(stages: StageThread, settings: Settings, app: Flask) -> QueueSwitch[IncomingMessage]:
    """What keeps a process's queues read or stopped as their breakers say (one per process).

    Its reconciling and probes wait for the stage thread to be idle: they may run a held batch and
    touch the breakers and channels a batch uses.
    """
    return QueueSwitch(stages.broker, settings.prefetch, app.app_context, stages.when_idle)
