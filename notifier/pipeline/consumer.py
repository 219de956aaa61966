"""The ``consume`` mode: runs the chosen stages on one connection, plus the outbox relay.

Stages run on the connection's thread, one message at a time per process;
scale by running more processes (``notifier run consume --only sender``).
SIGTERM and SIGINT stop consuming after the message in hand is finished;
unacked prefetched messages return to their queues.
"""

import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack

from flask import Flask

from notifier.channels.loading import close_channels, open_channels
from notifier.extensions import db
from notifier.pipeline import topology
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.context import StageContext
from notifier.pipeline.relay import Relay
from notifier.pipeline.runner import StageRunner, StageWiring
from notifier.pipeline.stages import STAGES
from notifier.settings import settings_of
from notifier.stopping import StopSignal
from notifier.templating.stored import template_store

logger = logging.getLogger(__name__)


class ConsumerProcess:
    """The stages of one ``consume`` process, sharing one connection and the channel plugins."""

    def __init__(self, app: Flask, stage_names: Sequence[str]) -> None:
        """Open the channels (their settings are validated here) and prepare the connection."""
        self._app = app
        self._stage_names = stage_names
        self._settings = settings_of(app)
        self._channels = open_channels()
        self._templates = template_store(self._settings)
        self._broker = BrokerConnection(
            self._settings.broker_url, 'notifier consume {0}'.format(','.join(stage_names)),
        )
        #: Set once every queue is subscribed (tests and supervisors wait on it).
        self.consuming = threading.Event()

    def make_context(self, attempt: int) -> StageContext:
        """The context of one stage call (inside an app context)."""
        return StageContext(
            session=db.session(),
            templates=self._templates,
            channels=self._channels,
            attempt=attempt,
            max_attempts=len(self._settings.retry_delay_seconds) + 1,
        )

    def run(self, *, stop_on_signals: bool = True) -> None:
        """Consume until :meth:`stop` (or SIGTERM/SIGINT in the main thread)."""
        with ExitStack() as cleanup:
            cleanup.callback(self._broker.close)
            cleanup.callback(close_channels, self._channels)
            self._start()
            if stop_on_signals:
                StopSignal(self._broker.stop).install()
            self.consuming.set()
            self._broker.run()
        logger.info('stopped consuming')

    def stop(self) -> None:
        """Stop after the message in hand; safe from any thread."""
        self._broker.stop()

    def _start(self) -> None:
        channel_names = sorted(self._channels)
        self._broker.declare(topology.all_queues(
            channel_names, self._settings.delivery_limit, self._settings.retry_delay_seconds,
        ))
        self._subscribe(channel_names)
        Relay(self._app, self._broker, self._settings.relay_interval).tick()

    def _subscribe(self, channel_names: Sequence[str]) -> None:
        wiring = StageWiring(
            app=self._app,
            broker=self._broker,
            make_context=self.make_context,
            retry_delays=self._settings.retry_delay_seconds,
        )
        for stage_name in self._stage_names:
            spec = STAGES[stage_name]
            runner = StageRunner(wiring, stage_name, spec.function)
            for routing_key in spec.routing_keys(channel_names):
                self._broker.consume(topology.queue_name(routing_key), runner.on_message, self._settings.prefetch)
        logger.info('consuming: %s (channels: %s)', ', '.join(self._stage_names), ', '.join(channel_names))


def run_consumers(app: Flask, stage_names: Sequence[str]) -> None:
    """Run a ``consume`` process until SIGTERM/SIGINT."""
    ConsumerProcess(app, stage_names).run()
