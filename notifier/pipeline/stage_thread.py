"""The thread a consume process runs its stages on, apart from its broker connection's thread.

The connection's thread only serves RabbitMQ (deliveries, heartbeats, timers,
publishes and acks); a batch's stage work (database, SMTP, rate-limit waits)
runs here, so a slow provider never starves the heartbeats and the broker
never closes the connection under a long send (decision 4, amended).

One batch runs at a time, as before: the channels' connections (an SMTP
session) and the breakers are used by one thread. The connection's thread
hands a batch over with :meth:`StageThread.start` and gets it back through
the connection's thread-safe callback; what the batch publishes and acks is
handed to the connection's thread the same way and waited for
(:meth:`StageThread.publish_many`, :meth:`StageThread.ack_all`): one
transactional publish and one ack per batch, as before. Work of the connection's
thread that must not overlap a batch (reconciling the breakers' queues, which
may run the batch a queue holds, and their probes) waits with
:meth:`StageThread.when_idle`; so do the queues' batches, each queue at most
once in line, so a busy queue cannot starve the others.
"""

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.broker_errors import BrokerConnectionLostError
from notifier.pipeline.envelopes import IncomingMessage, OutgoingMessage

logger = logging.getLogger(__name__)

#: How long a stop waits for the batch in hand to end before it gives up on the thread (a daemon).
JOIN_SECONDS = 30.0
#: How often waiting for the thread looks again whether the process is stopping.
WAIT_SLICE_SECONDS = 0.5
#: How often the stage thread, waiting for the connection's thread, checks the connection is still open.
HANDOFF_CHECK_SECONDS = 0.5

Task = Callable[[], None]


class _Handoff:
    """A call made on the connection's thread for the stage thread, and what it raised."""

    def __init__(self, action: Task) -> None:
        self._action = action
        self.done = threading.Event()
        self._error: Exception | None = None

    def run(self) -> None:
        try:
            self._action()
        except Exception as error:  # noqa: B902 - handed back to the stage thread, which raises it
            self._error = error
        self.done.set()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error


@dataclass(frozen=True)
class _Job:
    """A batch's work, the connection's session it was delivered on, and what runs after it there."""

    work: Task
    then: Task
    session: int


class StageThread:
    """Runs one batch at a time off the connection's thread and hands each end back to it."""

    def __init__(self, broker: BrokerConnection) -> None:
        """Nothing runs until :meth:`open`."""
        self._broker = broker
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        #: Set while no job is on the thread (it is safe to touch what stages touch from another thread).
        self._idle = threading.Event()
        self._idle.set()
        # The connection thread's view: a batch handed over and not yet handed back, and who waits for it.
        self._busy = False
        self._waiting: deque[Task] = deque()
        self._session = 0
        #: The session of the batch on the stage thread (read there).
        self._job_session = 0
        self._halted = False

    @property
    def broker(self) -> BrokerConnection:
        """The connection whose thread hands the batches over."""
        return self._broker

    def busy(self) -> bool:
        """A batch was handed over on this connection and has not been handed back (connection's thread)."""
        return self._busy

    def open(self) -> None:
        """Start the thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name='notifier stages', daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Let the batch in hand end, then end the thread."""
        thread = self._thread
        if thread is None:
            return
        self._thread = None
        self._jobs.put(None)
        thread.join(JOIN_SECONDS)
        if thread.is_alive():
            logger.warning('the stage thread did not end within %ss', JOIN_SECONDS)

    def new_session(self, stopping: threading.Event) -> None:
        """A new connection: wait until the last one's batch ended (its acks are void), forget its line."""
        while not self._idle.wait(WAIT_SLICE_SECONDS):
            if stopping.is_set():
                return
        self._session += 1
        self._busy = False
        self._waiting.clear()

    def halt(self) -> None:
        """Hand over no new batch: the process is stopping (safe from any thread)."""
        self._halted = True

    def when_idle(self, task: Task) -> None:
        """Run ``task`` now if no batch is handed over, else after it and those already waiting."""
        if self.busy():
            self._waiting.append(task)
        else:
            task()

    def start(self, work: Task, then: Task) -> None:
        """Hand ``work`` over (no batch may be in hand); ``then`` runs on the connection's thread after it."""
        if self._busy:
            raise RuntimeError('a batch is already in hand: hand the next one over when_idle()')
        if self._halted:
            return  # the messages are unacked: cancelling the queue returns them
        self._busy = True
        self._idle.clear()
        self._jobs.put(_Job(work, then, self._session))

    def publish_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Publish on the connection's thread and wait: every message is durable when this returns."""
        if messages:
            self._on_connection_thread(partial(self._broker.publish_many, messages))

    def ack_all(self, messages: Iterable[IncomingMessage]) -> None:
        """Ack on the connection's thread and wait."""
        self._on_connection_thread(partial(self._broker.ack_all, list(messages)))

    def _on_connection_thread(self, action: Task) -> None:
        """``action()`` on the connection's thread (directly when called there); raise what it raised.

        A connection that closes meanwhile raises :class:`BrokerConnectionLostError`: the action did not
        happen, and the batch's messages come again on the next connection (which waits for this batch).
        """
        if threading.current_thread() is not self._thread:
            action()
            return
        handoff = _Handoff(partial(self._in_session, self._job_session, action))
        self._broker.call_threadsafe(handoff.run)
        while not handoff.done.wait(HANDOFF_CHECK_SECONDS):
            if not self._broker.is_open:
                raise BrokerConnectionLostError('lost the RabbitMQ connection while a batch waited for it')
        handoff.raise_error()

    def _in_session(self, session: int, action: Task) -> None:
        """On the connection's thread: ``action()`` if the batch came on this connection (its tags are its)."""
        if session != self._session:
            raise BrokerConnectionLostError('the connection this batch came on is gone')
        action()

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            self._job_session = job.session
            error = None
            try:
                job.work()
            except Exception as raised:  # noqa: B902 - handed back to the connection's thread, which raises it
                error = raised
            if error is not None and not isinstance(error, BrokerConnectionLostError):
                logger.error('a batch failed: %r', error)
            self._idle.set()
            self._broker.call_threadsafe(partial(self._handed_back, job, error))

    def _handed_back(self, job: _Job, error: Exception | None) -> None:
        """On the connection's thread: raise what the batch raised, or go on with what waits."""
        if job.session != self._session:
            return  # delivered on a connection that is gone: its messages come again
        self._busy = False
        if error is not None:
            raise error  # as if the batch had raised in the connection's callback: the process reconnects or ends
        job.then()
        while self._waiting and not self._busy:
            self._waiting.popleft()()
