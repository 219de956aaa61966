"""``notifier run api`` serves with gunicorn in production, workers and threads from the CLI or the environment."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib import request as url_requests

from tests.observability.conftest import free_port, stop_process, wait_for_http
from tests.plugins.app import wait_for

PRODUCTION = {'NOTIFIER_ENVIRONMENT': 'production', 'NOTIFIER_SECRET_KEY': 'a-production-secret'}


@contextmanager
def _api(env: dict[str, str], log_file: Path, *arguments: str) -> Iterator[tuple['subprocess.Popen[bytes]', str]]:
    """``notifier run api`` on a free port, answering ``/healthz``; the process and its base URL."""
    port = free_port()
    command = [sys.executable, '-m', 'notifier', 'run', 'api', '--port', str(port), *arguments]
    with log_file.open('wb') as stderr:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        base_url = 'http://127.0.0.1:{0}'.format(port)
        try:
            wait_for_http('{0}/healthz'.format(base_url), process)
            yield process, base_url
        finally:
            stop_process(process)


def _server_header(base_url: str) -> str:
    with url_requests.urlopen('{0}/healthz'.format(base_url), timeout=10) as answer:  # noqa: S310 - a local URL
        return str(answer.headers['Server'])


def _command_line(pid: int) -> list[str]:
    return Path('/proc/{0}/cmdline'.format(pid)).read_bytes().decode().split('\x00')


def _option(command_line: list[str], name: str) -> str:
    return command_line[command_line.index(name) + 1]


def _workers(pid: int) -> list[int]:
    children = subprocess.run(['pgrep', '-P', str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in children.stdout.split()]


def test_production_serves_with_gunicorn_and_the_environments_workers_and_threads(
    service_env: dict[str, str], tmp_path: Path,
) -> None:
    env = {**service_env, **PRODUCTION, 'NOTIFIER_API_WORKERS': '2', 'NOTIFIER_API_THREADS': '3'}
    with _api(env, tmp_path / 'api.log') as (process, base_url):
        server = _server_header(base_url)
        command_line = _command_line(process.pid)
        workers = wait_for(lambda: len(_workers(process.pid)) == 2 and _workers(process.pid), what='two workers')

    assert server == 'gunicorn'
    assert Path(command_line[1]).name == 'gunicorn'  # the script, run by its interpreter
    assert (_option(command_line, '--workers'), _option(command_line, '--threads')) == ('2', '3')
    assert len(workers) == 2


def test_the_command_line_overrides_the_environment(service_env: dict[str, str], tmp_path: Path) -> None:
    env = {**service_env, **PRODUCTION, 'NOTIFIER_API_WORKERS': '2', 'NOTIFIER_API_THREADS': '3'}
    with _api(env, tmp_path / 'api.log', '--workers', '1', '--threads', '5') as (process, base_url):
        server = _server_header(base_url)
        command_line = _command_line(process.pid)

    assert server == 'gunicorn'
    assert (_option(command_line, '--workers'), _option(command_line, '--threads')) == ('1', '5')


def test_production_never_falls_back_to_flasks_server(service_env: dict[str, str], tmp_path: Path) -> None:
    with _api({**service_env, **PRODUCTION}, tmp_path / 'api.log', '--workers', '0') as (process, base_url):
        server = _server_header(base_url)
        command_line = _command_line(process.pid)

    assert server == 'gunicorn'
    assert int(_option(command_line, '--workers')) >= 3  # 2 x CPUs + 1


def test_development_serves_with_flasks_server_unless_given_workers(
    service_env: dict[str, str], tmp_path: Path,
) -> None:
    with _api(service_env, tmp_path / 'api.log') as (_, base_url):
        server = _server_header(base_url)

    assert server.startswith('Werkzeug/')
