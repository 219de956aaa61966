"""``notifier run api|consume|schedule|all``: start the service in a mode."""

import sys

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info
from werkzeug.serving import run_simple

from notifier.api.socket_listener import start_socket_listener
from notifier.cli.api_server import api_workers, exec_gunicorn, serving_options
from notifier.settings import MAX_PORT, settings_of
from notifier.stopping import StopSignal
from notifier.cli.preflight import preflight
from notifier.cli.supervisor import supervise
from notifier.errors import StartupError
from notifier.observability.serving import serve_metrics
from notifier.pipeline.consumer import ConsumerProcess
from notifier.pipeline.stages import STAGES
from notifier.scheduler.loop import SchedulerLoop

metrics_port_option = click.option(
    '--metrics-port',
    type=click.IntRange(1, MAX_PORT),
    default=None,
    help="Serve this process's metrics at http://NOTIFIER_API_HOST:PORT/metrics [off].",
)


def _app(script_info: ScriptInfo) -> Flask:
    app = script_info.load_app()
    preflight(app)
    return app


def _serve_metrics(app: Flask, metrics_port: int | None) -> None:
    if metrics_port is not None:
        serve_metrics(settings_of(app).api_host, metrics_port)


@click.group('run')
def run_group() -> None:
    """Start the service in a mode; every mode scales by running more processes."""


@run_group.command('api')
@serving_options
@pass_script_info
def run_api(
    script_info: ScriptInfo,
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
) -> None:
    """Serve the HTTP API (gunicorn in production or with workers, else Flask's server) and /ws beside it."""
    app = _app(script_info)
    settings = settings_of(app)
    if not settings.tokens:
        raise StartupError('NOTIFIER_API_TOKENS is empty: set at least one bearer token')
    bind_host = host or settings.api_host
    bind_port = port or settings.api_port
    gunicorn_workers = api_workers(settings, workers)
    if gunicorn_workers:
        exec_gunicorn('{0}:{1}'.format(bind_host, bind_port), gunicorn_workers, threads or settings.api_threads)
    start_socket_listener(app, bind_host, settings.websocket_port)
    run_simple(bind_host, bind_port, app, threaded=True, use_reloader=False)


@run_group.command('consume')
@click.option(
    '--only',
    default=','.join(STAGES),
    show_default=True,
    help='Comma-separated stages to run in this process.',
)
@metrics_port_option
@pass_script_info
def run_consume(script_info: ScriptInfo, only: str, metrics_port: int | None) -> None:
    """Consume queues: router, generator, worker, sender (and relay the outbox)."""
    stages = [stage.strip() for stage in only.split(',') if stage.strip()]
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or not stages:
        raise click.BadParameter(
            'unknown stage {0}; choose from {1}'.format(', '.join(unknown) or '(none)', ', '.join(STAGES)),
            param_hint='--only',
        )
    app = _app(script_info)
    process = ConsumerProcess(app, stages)
    _serve_metrics(app, metrics_port)
    StopSignal(process.stop).install()
    process.run()


@run_group.command('schedule')
@metrics_port_option
@pass_script_info
def run_schedule(script_info: ScriptInfo, metrics_port: int | None) -> None:
    """Release delayed and usual notifications when they are due (and relay the outbox)."""
    app = _app(script_info)
    loop = SchedulerLoop(app)
    _serve_metrics(app, metrics_port)
    StopSignal(loop.stop).install()
    loop.run()


@run_group.command('all')
@pass_script_info
def run_all(script_info: ScriptInfo) -> None:
    """API, consumers and scheduler as child processes; Ctrl-C stops them all (not for production)."""
    preflight(script_info.load_app())
    sys.exit(supervise(['api', 'consume', 'schedule']))
