"""The CI pipeline's Telegram message (``.github/scripts/notify_telegram.py``).

The script under ``.github/scripts`` is not a package module, so it is
loaded from its path. Sending is tested against a real HTTP server on
the loopback interface standing in for the Telegram Bot API.
"""

import json
import os
import socket
import subprocess  # noqa: S404 - runs our own script, as the workflow does
import sys
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT_PATH = REPO_ROOT / '.github' / 'scripts' / 'notify_telegram.py'

REPOSITORY = 'notifier'
FULL_COMMIT = '0123456789abcdef0123456789abcdef01234567'
PASSED = 'success'
FAILED = 'failure'
BOT_TOKEN = '123456:test-token'
CHAT_ID = '-1001234567890'
SUCCESS_TEXT = 'notifier: Pipeline for 0123456 finished successfully!'
ERROR_HEADLINE = 'notifier: Pipeline for 0123456 finished with error!'
SCRIPT_TIMEOUT = 30


def _load_script() -> ModuleType:
    spec = spec_from_file_location('notify_telegram', SCRIPT_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notify_telegram = _load_script()


def _needs(**job_results: str) -> dict[str, dict[str, Any]]:
    """Build ``toJSON(needs)`` as GitHub passes it to the notify job."""
    return {
        job_name: {'result': job_result, 'outputs': {}}
        for job_name, job_result in job_results.items()
    }


class Received(NamedTuple):
    """One request the fake Bot API received."""

    path: str
    content_type: str
    body: dict[str, Any]


class FakeBotApi(HTTPServer):
    """A Bot API stand-in that records requests and answers as told."""

    def __init__(self) -> None:
        super().__init__(('127.0.0.1', 0), _BotApiHandler)
        self.received: list[Received] = []
        self.answer_status = 200
        self.answer_body: dict[str, Any] = {'ok': True, 'result': {}}

    @property
    def url(self) -> str:
        """The base URL to give the script as ``TELEGRAM_API_URL``."""
        return 'http://127.0.0.1:{0}'.format(self.server_address[1])


class _BotApiHandler(BaseHTTPRequestHandler):
    server: FakeBotApi

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        length = int(self.headers.get('Content-Length', '0'))
        self.server.received.append(Received(
            path=self.path,
            content_type=self.headers.get('Content-Type', ''),
            body=json.loads(self.rfile.read(length)),
        ))
        answer = json.dumps(self.server.answer_body).encode('utf-8')
        self.send_response(self.server.answer_status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, WPS125
        """Keep the test output quiet."""


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    """Serve the fake Bot API on a free loopback port for one test."""
    server = FakeBotApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _run_script(extra_env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the script the way the workflow's notify step does."""
    inherited = {
        name: env_value
        for name, env_value in os.environ.items()
        if not name.startswith('TELEGRAM_') and 'proxy' not in name.lower()
    }
    env = {
        **inherited,
        'REPOSITORY': REPOSITORY,
        'COMMIT': FULL_COMMIT,
        'NEEDS_JSON': json.dumps(_needs(lint=PASSED, typecheck=FAILED, test=PASSED)),
        **extra_env,
    }
    return subprocess.run(  # noqa: S603 - fixed command, our own script
        [sys.executable, str(SCRIPT_PATH)],
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def _secrets(api_url: str, chat_id: str = CHAT_ID) -> dict[str, str]:
    """The Telegram variables of the notify step, pointed at ``api_url``."""
    return {
        'TELEGRAM_BOT_TOKEN': BOT_TOKEN,
        'TELEGRAM_CHAT_ID': chat_id,
        'TELEGRAM_API_URL': api_url,
    }


def _free_closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


def test_success_message() -> None:
    """Every job passed: one line, the brief's exact text."""
    needs = _needs(lint=PASSED, typecheck=PASSED, test=PASSED)

    message = notify_telegram.build_message(REPOSITORY, FULL_COMMIT, needs)

    assert message == SUCCESS_TEXT


def test_one_failure_message() -> None:
    """One failed job: the error headline and that job's line."""
    needs = _needs(lint=PASSED, typecheck=FAILED, test=PASSED)

    message = notify_telegram.build_message(REPOSITORY, FULL_COMMIT, needs)

    assert message == '{0}\ntypecheck failed'.format(ERROR_HEADLINE)


def test_several_failures_message() -> None:
    """Several failed jobs: one line each, in the order of ``needs``."""
    needs = _needs(lint=FAILED, typecheck=PASSED, test=FAILED)

    message = notify_telegram.build_message(REPOSITORY, FULL_COMMIT, needs)

    assert message == '{0}\nlint failed\ntest failed'.format(ERROR_HEADLINE)


def test_cancelled_failed_skipped_not() -> None:
    """A cancelled job is reported as failed; a skipped one is not listed."""
    needs = _needs(lint='cancelled', typecheck='skipped', test=PASSED)

    message = notify_telegram.build_message(REPOSITORY, FULL_COMMIT, needs)

    assert message == '{0}\nlint failed'.format(ERROR_HEADLINE)


def test_short_commit_is_kept_as_is() -> None:
    """A hash shorter than seven characters is not padded or dropped."""
    message = notify_telegram.build_message(REPOSITORY, 'abc', {})

    assert message == 'notifier: Pipeline for abc finished successfully!'


def test_missing_token_exits_zero(bot_api: FakeBotApi) -> None:
    """Without the bot token the message is printed, not sent, and CI passes."""
    completed = _run_script({'TELEGRAM_CHAT_ID': CHAT_ID, 'TELEGRAM_API_URL': bot_api.url})

    assert completed.returncode == 0
    assert completed.stdout.splitlines() == [
        ERROR_HEADLINE,
        'typecheck failed',
        'telegram: TELEGRAM_BOT_TOKEN is not set; message not sent',
    ]
    assert not completed.stderr
    assert not bot_api.received


def test_missing_chat_id_exits_zero(bot_api: FakeBotApi) -> None:
    """An empty chat id (as a fork's pull request gets) is reported the same way."""
    completed = _run_script(_secrets(api_url=bot_api.url, chat_id=''))

    assert completed.returncode == 0
    assert completed.stdout.splitlines()[-1] == (
        'telegram: TELEGRAM_CHAT_ID is not set; message not sent'
    )
    assert not bot_api.received


def test_sends_message_to_the_chat(bot_api: FakeBotApi) -> None:
    """The message is posted once to sendMessage with the chat id and text."""
    completed = _run_script(_secrets(api_url=bot_api.url))

    assert completed.returncode == 0
    assert completed.stdout.splitlines()[-1] == 'telegram: message sent'
    assert bot_api.received == [Received(
        path='/bot{0}/sendMessage'.format(BOT_TOKEN),
        content_type='application/json',
        body={
            'chat_id': CHAT_ID,
            'text': '{0}\ntypecheck failed'.format(ERROR_HEADLINE),
        },
    )]


def test_error_answer_exits_zero(bot_api: FakeBotApi) -> None:
    """Telegram's refusal is logged with its reason; the token is not."""
    bot_api.answer_status = 400
    bot_api.answer_body = {'ok': False, 'description': 'Bad Request: chat not found'}

    completed = _run_script(_secrets(api_url=bot_api.url))

    assert completed.returncode == 0
    assert completed.stdout.splitlines()[-1] == (
        'telegram: sendMessage failed: HTTP 400: Bad Request: chat not found; message not sent'
    )
    assert BOT_TOKEN not in completed.stdout + completed.stderr


def test_unreachable_api_exits_zero() -> None:
    """A network error never fails the pipeline."""
    closed_port_url = 'http://127.0.0.1:{0}'.format(_free_closed_port())

    completed = _run_script(_secrets(api_url=closed_port_url))

    assert completed.returncode == 0
    assert completed.stdout.splitlines()[-1].startswith(
        'telegram: cannot reach the Bot API: ',
    )
    assert completed.stdout.splitlines()[-1].endswith('; message not sent')
    assert not completed.stderr
