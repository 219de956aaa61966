"""The sockets connected to this API process, by user, fed by the process's live subscription.

The subscription thread never touches a socket: it puts each push on the
queue of every socket of that user, and each socket's own thread (the one
serving the connection) sends it. The hub and its subscription start with
the first connection of the process (after a gunicorn fork, never before).
"""

import collections
import contextlib
import os
import queue
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Final

from flask import Flask

from notifier.inbox.pushes import parse_fanout
from notifier.pipeline.live import LiveSubscription
from notifier.settings import settings_of

HUB_KEY: Final = 'notifier.socket_hub'
#: Pushes waiting for one slow socket; past this the oldest are dropped (the inbox has them).
SOCKET_QUEUE_SIZE: Final = 1000
#: How many item ids a socket remembers to send each item once (pushes and the backlog overlap).
REMEMBERED_IDS: Final = 1000
STOP_TIMEOUT_SECONDS: Final = 10.0
_hub_lock = threading.Lock()

SocketQueue = queue.Queue[Mapping[str, Any]]


class SentOnce:
    """The ids a socket was sent (the most recent ones): an item goes to a socket once."""

    def __init__(self, remembered: int = REMEMBERED_IDS) -> None:
        """Remember at most ``remembered`` ids."""
        self._order: collections.deque[str] = collections.deque(maxlen=remembered)
        self._ids: set[str] = set()

    def first_time(self, item_id: str) -> bool:
        """True the first time an id is seen (and remember it)."""
        if item_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(item_id)
        self._ids.add(item_id)
        return True


class SocketHub:
    """The open sockets of this process and the subscription that feeds them."""

    def __init__(self, broker_url: str) -> None:
        """Start consuming the fan-out exchange in the background."""
        self._lock = threading.Lock()
        self._sockets: dict[str, set[SocketQueue]] = collections.defaultdict(set)
        self._subscription = LiveSubscription(
            broker_url, self.deliver, 'notifier live sockets pid {0}'.format(os.getpid()),
        )
        self._subscription.start()

    @property
    def ready(self) -> threading.Event:
        """Set while this process receives pushes."""
        return self._subscription.ready

    @contextlib.contextmanager
    def attached(self, user_id: str) -> Iterator[SocketQueue]:
        """While a socket of ``user_id`` is open: the queue its pushes arrive on."""
        socket_queue: SocketQueue = queue.Queue(maxsize=SOCKET_QUEUE_SIZE)
        with self._lock:
            self._sockets[user_id].add(socket_queue)
        try:
            yield socket_queue
        finally:
            self._detach(user_id, socket_queue)

    def deliver(self, body: Mapping[str, Any]) -> None:
        """Hand a push to every socket of its user in this process (on the subscription's thread)."""
        parsed = parse_fanout(body)
        if parsed is None:
            return
        user_id, message = parsed
        with self._lock:
            targets = list(self._sockets.get(user_id, ()))
        for socket_queue in targets:
            _put_dropping_oldest(socket_queue, message)

    def stop(self) -> None:
        """Stop the subscription (tests; a process that exits just ends the daemon thread)."""
        self._subscription.stop(STOP_TIMEOUT_SECONDS)

    def _detach(self, user_id: str, socket_queue: SocketQueue) -> None:
        with self._lock:
            sockets = self._sockets.get(user_id)
            if sockets is not None:
                sockets.discard(socket_queue)
                if not sockets:
                    self._sockets.pop(user_id)


def _put_dropping_oldest(socket_queue: SocketQueue, message: Mapping[str, Any]) -> None:
    # Only the subscription's thread puts: after taking one out there is room.
    try:
        socket_queue.put_nowait(message)
    except queue.Full:
        with contextlib.suppress(queue.Empty):
            socket_queue.get_nowait()
        socket_queue.put_nowait(message)


def socket_hub(app: Flask) -> SocketHub:
    """The hub of this process, started on first use."""
    with _hub_lock:
        hub = app.extensions.get(HUB_KEY)
        if hub is None:
            hub = SocketHub(settings_of(app).broker_url)
            app.extensions[HUB_KEY] = hub
    return hub
