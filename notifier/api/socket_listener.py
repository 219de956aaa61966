"""The ``/ws`` listener of an API process: an asyncio event loop on a thread of its own, beside Flask.

``notifier run api`` starts one in its process (Flask's development server)
or in each gunicorn worker (``post_worker_init``): the gunicorn master binds
the port before it forks, as it does for HTTP, and every worker accepts on
that one socket (a port taken by another program fails the start). The loop
serves every socket of the process; the process's live subscription (a
RabbitMQ connection on its own thread, decision 0009) hands it the pushes.
"""

import asyncio
import contextlib
import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from flask import Flask
from websockets.asyncio.server import Server, serve

from notifier.api.socket_process import raise_open_files_limit, tune_collector
from notifier.api.socket_hub import SocketHub
from notifier.api.websocket import SocketService, socket_options
from notifier.errors import StartupError
from notifier.pipeline.live import LiveSubscription
from notifier.settings import settings_of

#: How long start-up waits for the live subscription before it serves anyway (the backlog covers the gap).
READY_TIMEOUT_SECONDS: Final = 10.0
#: How long start-up waits for the port to be bound.
LISTEN_TIMEOUT_SECONDS: Final = 30.0
STOP_TIMEOUT_SECONDS: Final = 10.0
#: Threads reading the unread backlog of connecting sockets (each holds a database connection meanwhile).
DATABASE_THREADS: Final = 4
LISTENER_KEY: Final = 'notifier.socket_listener'
#: Handshakes waiting to be accepted (the kernel caps it at net.core.somaxconn).
LISTEN_BACKLOG: Final = 4096
logger = logging.getLogger(__name__)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening (the gunicorn master's, shared by its workers)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        bound = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as error:
        raise StartupError('cannot serve /ws on {0}:{1}: {2}'.format(host, port, error)) from None
    bound.set_inheritable(True)
    return bound


class SocketListener:
    """Serves ``/ws`` on ``host:port`` (or on a socket bound before) from a daemon thread until :meth:`stop`."""

    def __init__(self, app: Flask, host: str, port: int, bound: socket.socket | None = None) -> None:
        """Nothing runs before :meth:`start`."""
        self._app = app
        self._address = (host, port)
        self._bound = bound
        self._loop = asyncio.new_event_loop()
        self.hub = SocketHub(self._loop)
        self._subscription = LiveSubscription(
            settings_of(app).broker_url, self.hub.deliver, 'notifier live sockets pid {0}'.format(os.getpid()),
        )
        self._database = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix='ws-backlog')
        self._thread = threading.Thread(target=self._run, name='ws-listener', daemon=True)
        self._listening = threading.Event()
        self._server: Server | None = None
        self._failure: OSError | None = None

    def start(self) -> None:
        """Subscribe to the pushes, bind the port and serve; :class:`StartupError` if the port cannot be bound."""
        open_files = raise_open_files_limit()
        self._subscription.start()
        if not self._subscription.ready.wait(READY_TIMEOUT_SECONDS):
            logger.warning('live pushes are not subscribed yet; /ws serves without them until they are')
        self._thread.start()
        self._listening.wait(LISTEN_TIMEOUT_SECONDS)
        if self._failure is not None or self._server is None:
            self._subscription.stop(STOP_TIMEOUT_SECONDS)
            raise StartupError('cannot serve /ws on {0}:{1}: {2}'.format(*self._address, self._failure))
        logger.info('serving /ws on %s:%s (up to %s open files)', *self._address, open_files)

    def stop(self) -> None:
        """Close every socket (1001, going away), stop listening and unsubscribe."""
        server = self._server
        if server is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(server.close)
        self._thread.join(STOP_TIMEOUT_SECONDS)
        self._subscription.stop(STOP_TIMEOUT_SECONDS)
        self._database.shutdown(wait=False)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        with contextlib.closing(self._loop):
            self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        service = SocketService(self._app, self.hub, self._database)
        host, port = self._address
        where = {'sock': self._bound} if self._bound is not None else {'host': host, 'port': port}
        try:
            server = await serve(service.serve, process_request=service.admit, **where, **socket_options())
        except OSError as error:
            self._failure = error
            self._listening.set()
            return
        self._server = server
        self._listening.set()
        await server.wait_closed()


def start_socket_listener(
    app: Flask, host: str, port: int, bound: socket.socket | None = None,
) -> SocketListener | None:
    """Serve ``/ws`` on ``host:port`` (or ``bound``) in this process (nothing when the port is 0); kept on the app."""
    if not port:
        return None
    # websockets logs every connection at INFO: with thousands of sockets, only its warnings are kept.
    logging.getLogger('websockets').setLevel(logging.WARNING)
    tune_collector()  # the app and its modules live as long as the process: frozen out of the collector
    listener = SocketListener(app, host, port, bound)
    listener.start()
    app.extensions[LISTENER_KEY] = listener
    return listener


def stop_socket_listener(app: Flask) -> None:
    """Close the sockets of this process, if it serves ``/ws``."""
    listener = app.extensions.pop(LISTENER_KEY, None)
    if isinstance(listener, SocketListener):
        listener.stop()
