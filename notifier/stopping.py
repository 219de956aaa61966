"""Graceful stop on SIGTERM and SIGINT, shared by every long-running mode."""

import logging
import signal
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)


class StopSignal:
    """Records that SIGTERM or SIGINT arrived and runs a callback once per signal."""

    def __init__(self, on_stop: Callable[[], None] | None = None) -> None:
        """``on_stop`` must be safe to call from a signal handler."""
        self._on_stop = on_stop
        self.received: int | None = None

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return self.received is not None

    def install(self) -> 'StopSignal':
        """Handle SIGTERM and SIGINT from now on."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        logger.info('received %s, stopping gracefully', signal.Signals(signum).name)
        self.received = signum
        if self._on_stop is not None:
            self._on_stop()
