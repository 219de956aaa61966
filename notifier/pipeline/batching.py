"""Collecting a queue's deliveries into batches, and chaining a process's stages.

A consumed queue's messages are held for a few milliseconds (or until half
the prefetch window is in hand) and then handed to the stage together: one
transaction, one publish, one ack for the lot. Everything here runs on the
connection's thread.
"""

from collections.abc import Callable

from notifier.pipeline.broker import BrokerConnection, IncomingMessage
from notifier.pipeline.runner import StageRunner


class Batcher:
    """Holds one queue's deliveries until the batch is full or the linger passed, then runs them."""

    def __init__(
        self,
        runner: StageRunner,
        broker: BrokerConnection,
        limit: Callable[[], int],
        linger: float,
        settle: Callable[[], None],
    ) -> None:
        """``limit`` is the largest batch now; ``settle`` runs after a batch the timer started."""
        self._runner = runner
        self._broker = broker
        self._limit = limit
        self._linger = linger
        self._settle = settle
        self._held: list[IncomingMessage] = []
        self._full_armed = False
        self._linger_armed = False

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
        """Run what is held (nothing when nothing is)."""
        batch, self._held = self._held, []
        if batch:
            self._runner.on_batch(batch)

    def _on_full(self) -> None:
        self._full_armed = False
        self._run()

    def _on_linger(self) -> None:
        self._linger_armed = False
        self._run()

    def _run(self) -> None:
        self.flush()
        self._settle()
