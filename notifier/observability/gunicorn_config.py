"""gunicorn settings of ``notifier run api --workers N`` (``-c python:notifier.observability.gunicorn_config``).

Running gunicorn by hand, pass the same ``-c`` and set ``PROMETHEUS_MULTIPROC_DIR``
to an empty directory: then ``/metrics`` sums every worker, and gunicorn's
own lines are formatted like the service's (JSON in production).
"""

from typing import Any, Final

from prometheus_client import multiprocess

from notifier.observability.exposition import multiprocess_enabled
from notifier.observability.logs import configure_logging
from notifier.settings import load_settings

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


def on_starting(server: Any) -> None:
    """In the master, before the workers fork: the service's log handler on the root logger."""
    configure_logging(load_settings())


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited: its live gauges leave the sums (prometheus-client multiprocess mode)."""
    if multiprocess_enabled():
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
