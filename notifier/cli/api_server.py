"""How ``notifier run api`` serves: gunicorn in production (or with workers), Flask's server in development."""

import os
import shutil
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from notifier.observability.serving import prepare_multiprocess_dir
from notifier.settings import MAX_API_THREADS, MAX_API_WORKERS, Settings

Command = TypeVar('Command', bound=Callable[..., Any])
#: gunicorn's rule of thumb for the workers of a host: 2 per CPU, plus 1.
PRODUCTION_WORKERS_PER_CPU = 2
#: gunicorn's settings module: multiprocess metrics (child_exit) and the service's log format.
GUNICORN_CONFIG = 'python:notifier.observability.gunicorn_config'


def api_workers(settings: Settings, workers: int | None) -> int:
    """gunicorn's workers: ``--workers``, else ``NOTIFIER_API_WORKERS``; production never gets 0 (Flask's server)."""
    chosen = settings.api_workers if workers is None else workers
    if chosen or settings.environment != 'production':
        return chosen
    return PRODUCTION_WORKERS_PER_CPU * (os.cpu_count() or 1) + 1


def exec_gunicorn(bind: str, workers: int, threads: int) -> None:
    """Replace this process with gunicorn serving the app (its config: metrics, log format, ``/ws``)."""
    prepare_multiprocess_dir(os.environ)  # every worker's metrics, summed by /metrics
    # Each worker's post_worker_init serves /ws on this host and NOTIFIER_WEBSOCKET_PORT.
    os.environ['NOTIFIER_API_HOST'] = bind.rsplit(':', 1)[0]
    gunicorn = shutil.which('gunicorn', path=os.path.dirname(sys.executable)) or 'gunicorn'
    os.execv(gunicorn, [  # noqa: S606 - replaces this process with gunicorn on purpose
        gunicorn,
        '--config', GUNICORN_CONFIG,
        '--workers', str(workers),
        # Threads serve HTTP requests; each worker serves /ws on its own listener (post_worker_init).
        '--threads', str(threads),
        '--bind', bind,
        # No gunicorn access log: the app logs one line per request with its request id,
        # and without the query string (tokens).
        'notifier.app:create_app()',
    ])


_SERVING_OPTIONS = (
    click.option('--host', default=None, help='Bind address [NOTIFIER_API_HOST, 127.0.0.1].'),
    click.option('--port', type=int, default=None, help='Port [NOTIFIER_API_PORT, 8000].'),
    click.option(
        '--workers',
        type=click.IntRange(min=0, max=MAX_API_WORKERS),
        default=None,
        help=(
            'Serve with gunicorn and N workers [NOTIFIER_API_WORKERS; 0: Flask\'s server in development, '
            '2 x CPUs + 1 in production].'
        ),
    ),
    click.option(
        '--threads',
        type=click.IntRange(min=1, max=MAX_API_THREADS),
        default=None,
        help='Threads per gunicorn worker [NOTIFIER_API_THREADS, 8].',
    ),
)


def serving_options(command: Command) -> Command:
    """``--host``, ``--port``, ``--workers``, ``--threads``."""
    for option in reversed(_SERVING_OPTIONS):
        command = option(command)
    return command
