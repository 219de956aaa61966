"""Serving the metrics of a process: a port of its own (consume, schedule), or gunicorn's workers (api).

``consume`` and ``schedule`` have no HTTP server: ``--metrics-port`` starts
prometheus-client's, in a daemon thread, for that process's own metrics.
Under gunicorn every worker writes its values to ``PROMETHEUS_MULTIPROC_DIR``
and ``/metrics`` sums them; the directory must start empty, and a worker that
exits is marked dead (:mod:`notifier.observability.gunicorn_config`).
"""

import logging
import tempfile
from collections.abc import MutableMapping
from pathlib import Path
from typing import Final

from prometheus_client import start_http_server

from notifier.errors import StartupError
from notifier.observability.exposition import MULTIPROCESS_ENV

logger = logging.getLogger(__name__)
MULTIPROCESS_DIR_PREFIX: Final = 'notifier-metrics-'


def serve_metrics(host: str, port: int) -> None:
    """Serve this process's metrics on ``http://host:port/metrics`` until it exits."""
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        raise StartupError('cannot serve metrics on {0}:{1}: {2}'.format(host, port, error.strerror)) from None
    logger.info('metrics on http://%s:%d/metrics', host, port)


def prepare_multiprocess_dir(environ: MutableMapping[str, str]) -> Path:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` (a new temporary one when unset) and empty it of old values.

    Set in ``environ`` before the workers start: prometheus-client reads it at import.
    """
    configured = environ.get(MULTIPROCESS_ENV)
    directory = Path(configured) if configured else Path(tempfile.mkdtemp(prefix=MULTIPROCESS_DIR_PREFIX))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob('*.db'):
        stale.unlink()
    environ[MULTIPROCESS_ENV] = str(directory)
    return directory
