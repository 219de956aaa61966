"""A process that holds thousands of sockets: its open files limit and Python's garbage collector.

Every socket is a file descriptor: the soft ``RLIMIT_NOFILE`` is lifted to
the hard limit. A full collection walks every tracked object of the process and holds the
``/ws`` event loop (and so every push) meanwhile: with 10,000 sockets it
took 0.3–2 s on the bench machine (docs/websocket.md). What the process
loaded at start is frozen out of the collector, young collections are made
rarer (so fewer full ones fall while thousands of sockets connect at once),
and a full collection that held the loop for long is logged.
"""

import gc
import logging
import resource
import time
from typing import Final

FULL_COLLECTION: Final = 2
#: A full collection longer than this is logged (a push waits for it).
SLOW_COLLECTION_SECONDS: Final = 0.1
#: Allocations between two young collections (CPython's default is 700).
YOUNG_COLLECTION_THRESHOLD: Final = 50000
logger = logging.getLogger(__name__)


class _FullCollectionClock:
    """Times full collections through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, phase: str, details: dict[str, int]) -> None:
        if details['generation'] != FULL_COLLECTION:
            return
        if phase == 'start':
            self.started = time.monotonic()
            return
        paused = time.monotonic() - self.started
        if paused > SLOW_COLLECTION_SECONDS:
            logger.warning('a full garbage collection held /ws for %.0f ms', 1000 * paused)


def tune_collector() -> None:
    """Freeze what is loaded now, make young collections rarer, log slow full ones (once per process)."""
    if any(isinstance(callback, _FullCollectionClock) for callback in gc.callbacks):
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    gc.callbacks.append(_FullCollectionClock())


def raise_open_files_limit() -> int:
    """Lift the soft limit of open files to the hard one; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
