"""Fixtures of the inbox and websocket tests: the app with their routes, users, and API processes."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest
from flask import Flask
from sqlalchemy import text

from notifier.extensions import db
from notifier.inbox.tokens import issue_token
from notifier.models.user import User
from notifier.settings import SETTINGS_KEY, settings_of
from tests.plugins.app import TOKEN, wait_for

REPOSITORY = Path(__file__).resolve().parents[2]
USERS = ('anna', 'boris', 'vera')
#: The websocket secret of the test app and of the API processes it starts.
SECRET = 'test-websocket-secret'


def token_for(user_id: str, valid_for: int = 300) -> str:
    """A token as the cinema's site issues it."""
    return issue_token(SECRET, user_id, int(time.time()) + valid_for)


@pytest.fixture
def inbox_app(app: Flask, database_url: str) -> Flask:
    """The test app with the websocket secret and three users of the directory."""
    settings = settings_of(app)
    app.extensions[SETTINGS_KEY] = settings.model_copy(update={'websocket_secret': SECRET})
    with app.app_context():
        if not database_url.startswith('sqlite'):
            db.session.execute(text('TRUNCATE inbox_items, user_segments, users CASCADE'))
        for user_id in USERS:
            db.session.add(User(id=user_id, email='{0}@example.com'.format(user_id), name=user_id.title()))
        db.session.commit()
    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def _answers(base_url: str) -> bool:
    try:
        with urlopen('{0}/healthz'.format(base_url), timeout=1) as answer:  # noqa: S310 - our server
            return bool(answer.status == 200)
    except OSError:  # refused, reset, or not answered yet (a booting gunicorn worker)
        return False


@dataclass(frozen=True)
class Api:
    """A running ``notifier run api``: the base URLs of its HTTP API and of its ``/ws`` listener."""

    url: str
    ws: str


class ApiProcesses:
    """Real ``notifier run api`` processes on the test's database and vhost."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._started: list[subprocess.Popen[bytes]] = []

    def start(self, workers: int = 0) -> Api:
        """Start one more (Flask's server, or gunicorn with ``workers``); its URLs once it answers."""
        port, socket_port = _free_port(), _free_port()
        self._started.append(subprocess.Popen(
            [sys.executable, '-m', 'notifier', 'run', 'api', '--port', str(port), '--workers', str(workers)],
            cwd=REPOSITORY,
            env={**self._env, 'NOTIFIER_WEBSOCKET_PORT': str(socket_port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ))
        api = Api('http://127.0.0.1:{0}'.format(port), 'ws://127.0.0.1:{0}'.format(socket_port))
        wait_for(lambda: _answers(api.url), what='the API process on port {0}'.format(port))
        return api

    def failed_start(self, socket_port: int, workers: int = 0) -> tuple[int, str]:
        """Run one whose ``/ws`` port is ``socket_port`` until it exits; its exit code and its log."""
        finished = subprocess.run(
            [sys.executable, '-m', 'notifier', 'run', 'api', '--port', str(_free_port()), '--workers', str(workers)],
            cwd=REPOSITORY,
            env={**self._env, 'NOTIFIER_WEBSOCKET_PORT': str(socket_port)},
            capture_output=True,
            timeout=120,
        )
        return finished.returncode, finished.stderr.decode(errors='replace')

    def stop_all(self) -> None:
        """Terminate them and wait."""
        for process in self._started:
            process.terminate()
        for started in self._started:
            try:
                started.wait(timeout=20)
            except subprocess.TimeoutExpired:
                started.kill()
                started.wait()


@pytest.fixture
def api_processes(inbox_app: Flask, tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Starts real API processes on the test's database and vhost; each call answers one's URLs."""
    with _processes(inbox_app, tmp_path) as processes:
        yield processes.start


@pytest.fixture
def api_process_runner(inbox_app: Flask, tmp_path: Path) -> Iterator[ApiProcesses]:
    """The same API processes, for tests that watch one fail to start."""
    with _processes(inbox_app, tmp_path) as processes:
        yield processes


@contextmanager
def _processes(inbox_app: Flask, tmp_path: Path) -> Iterator[ApiProcesses]:
    settings = settings_of(inbox_app)
    processes = ApiProcesses({
        **os.environ,
        'NOTIFIER_DATABASE_URL': settings.resolved_database_url,
        'NOTIFIER_BROKER_URL': settings.broker_url,
        'NOTIFIER_API_TOKENS': TOKEN,
        'NOTIFIER_WEBSOCKET_SECRET': SECRET,
        'NOTIFIER_INSTANCE_DIR': str(tmp_path),
    })
    try:
        yield processes
    finally:
        processes.stop_all()
