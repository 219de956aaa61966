"""The ``consume`` mode: runs the chosen stages on one connection, plus the outbox relay.

Batches are collected on the connection's thread and run on a stage thread
of the process, one at a time (``notifier.pipeline.batching``,
``notifier.pipeline.stage_thread``), so the connection keeps its heartbeats
during a long send; stages of one process are chained (what one
forwards to another is handed over in the same batch, decision 15). Scale by
running more processes (``notifier run consume --only sender``). SIGTERM and
SIGINT stop consuming after the batch in hand is finished; unacked prefetched
messages return to their queues.

A queue whose circuit breaker opens (the user directory for the generator,
a channel's provider for its queue) is cancelled after the message in hand
and read again once a probe found the dependency back (``docs/failover.md``);
while every queue of the process is so paused, the connection only serves
its timers.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack

from flask import Flask

from notifier.channels.loading import close_channels, open_channels
from notifier.pipeline import declare, topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.context import StageContext
from notifier.pipeline.dependencies import build_dependencies
from notifier.pipeline.reconnect import keep_connected
from notifier.pipeline.relay import woken_relay
from notifier.pipeline.batching import ProcessRoutes, queue_switch
from notifier.pipeline.runner import StageWiring
from notifier.pipeline.stage_thread import StageThread
from notifier.settings import settings_of

logger = logging.getLogger(__name__)

#: While every queue is paused by a breaker, the connection is serviced in slices this long.
IDLE_SECONDS = 1.0


class ConsumerProcess:
    """The stages of one ``consume`` process, sharing one connection and the channel plugins."""

    def __init__(self, app: Flask, stage_names: Sequence[str]) -> None:
        """Open the channels (their settings are validated here) and prepare the connection."""
        self._app = app
        self._stage_names = stage_names
        self._settings = settings_of(app)
        self._channels = open_channels()
        self._dependencies = build_dependencies(self._settings, self._channels)
        self._broker = BrokerConnection(
            self._settings.broker_url,
            'notifier consume {0}'.format(','.join(stage_names)),
            heartbeat=self._settings.broker_heartbeat,
        )
        self._stages = StageThread(self._broker)
        #: Set while every queue is subscribed (tests and supervisors wait on it).
        self.consuming = threading.Event()
        #: How many times this process connected and subscribed (1 + reconnections).
        self.sessions = 0
        self._stopping = threading.Event()
        self._switch = queue_switch(self._stages, self._settings, app)
        relay, listener = woken_relay(app, self._broker, self._stopping)
        self._relay = relay
        self._listener = listener

    def make_context(self, attempt: int, replayed: bool) -> StageContext:
        """The context of one stage call (inside an app context)."""
        return self._dependencies.context(attempt, replayed)

    def run(self) -> None:
        """Consume until :meth:`stop`, reconnecting to RabbitMQ as needed."""
        with ExitStack() as cleanup:
            cleanup.callback(close_channels, self._channels)
            cleanup.callback(self._dependencies.close)
            cleanup.callback(self._stages.close)  # after the connection closed: a batch in hand ends at once
            cleanup.callback(self._broker.close)
            self._stages.open()
            if self._listener is not None:
                self._listener.start()
            keep_connected(self._consume_until_stopped, self._broker, self._stopping)
        logger.info('stopped consuming')

    def stop(self) -> None:
        """Stop after the message in hand; safe from any thread and from a signal handler."""
        self._stopping.set()
        self._switch.halt()
        self._stages.halt()
        self._broker.stop()

    def _consume_until_stopped(self, connected: Callable[[], None]) -> None:
        self.consuming.clear()
        self._stages.new_session(self._stopping)
        self._start()
        self.sessions += 1
        self.consuming.set()
        connected()
        while not self._stopping.is_set():
            # Returns once no queue is consumed (stopped, or every queue paused) and no batch is in hand.
            self._broker.run(busy=self._stages.busy)
            if not self._switch.paused:
                return
            self._broker.process_events(IDLE_SECONDS)  # the probes run in the connection's timers

    def _start(self) -> None:
        channel_names = sorted(self._channels)
        declare.declare_queues(self._broker, topology.all_queues(
            channel_names, self._settings.delivery_limit, self._settings.retry_delay_seconds,
        ))
        self._subscribe(channel_names)
        self._relay.tick()

    def _subscribe(self, channel_names: Sequence[str]) -> None:
        wiring = StageWiring(
            app=self._app,
            broker=self._stages,
            make_context=self.make_context,
            retry_delays=self._settings.retry_delay_seconds,
        )
        reading = ProcessRoutes(
            wiring, self._settings, self._switch.settle, self._dependencies.guard_for, self._stages,
        )
        for stage_name in self._stage_names:
            reading.add(stage_name, channel_names)
        self._switch.connect(reading.chained())
        logger.info('consuming: %s (channels: %s)', ', '.join(self._stage_names), ', '.join(channel_names))
