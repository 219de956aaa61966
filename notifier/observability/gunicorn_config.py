"""gunicorn settings of ``notifier run api --workers N`` (``-c python:notifier.observability.gunicorn_config``).

Running gunicorn by hand, pass the same ``-c`` and set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory: then ``/metrics`` sums every worker, and gunicorn's
own lines are formatted like the service's (JSON in production).
"""

import socket
from typing import Any, Final

from prometheus_client import multiprocess

from notifier.api.socket_listener import listening_socket, start_socket_listener, stop_socket_listener
from notifier.observability.exposition import multiprocess_enabled
from notifier.observability.logs import configure_logging
from notifier.settings import load_settings, settings_of

#: gunicorn's own lines go to the root logger, which :func:`on_starting` sets up. Its access
#: log is off: the app logs each request with its request id and without the query string
#: (which may hold a token, ``/ws?token=…``).
logconfig_dict: Final = {
    'version': 1,
    'disable_existing_loggers': False,
    'root': {'level': 'INFO', 'handlers': []},
    'loggers': {
        'gunicorn.error': {'level': 'INFO', 'handlers': [], 'propagate': True},
        'gunicorn.access': {'level': 'WARNING', 'handlers': [], 'propagate': False},
    },
}


#: The ``/ws`` port, bound by the master before it forks (every worker serves it); empty when it is 0.
_websocket_sockets: list[socket.socket] = []


def on_starting(server: Any) -> None:
    """In the master, before the workers fork: the service's log handler, and the ``/ws`` port bound."""
    settings = load_settings()
    configure_logging(settings)
    if settings.websocket_port:
        _websocket_sockets.append(listening_socket(settings.api_host, settings.websocket_port))


def post_worker_init(worker: Any) -> None:
    """In each worker, once the app is loaded: serve ``/ws`` on the master's socket."""
    settings = settings_of(worker.wsgi)
    for bound in _websocket_sockets:
        start_socket_listener(worker.wsgi, settings.api_host, settings.websocket_port, bound)


def worker_exit(server: Any, worker: Any) -> None:
    """A worker stops: its sockets are closed with 1001 (going away) and the clients reconnect."""
    app = getattr(worker, 'wsgi', None)
    if app is not None:
        stop_socket_listener(app)


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: its live gauges leave the sums (prometheus-client multiprocess mode)."""
    if multiprocess_enabled():
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
