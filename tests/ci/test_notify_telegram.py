"""The CI pipeline's Telegram message (``.github/scripts/notify_telegram.py``).

The script under ``.github/scripts`` is not a package module, so it is
loaded from its path. The message is built from ``toJSON(needs)`` as
GitHub hands it to the notify job: each job's result, and its steps'
results (``toJSON(steps)``) in the job outputs the workflow declares.
Sending is tested against a real HTTP server on the loopback interface
standing in for the Telegram Bot API.
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
SKIPPED = 'skipped'
CANCELLED = 'cancelled'
BOT_TOKEN = '123456:test-token'
CHAT_ID = '-1001234567890'
SUCCESS_TEXT = 'notifier: Pipeline for {0} finished successfully!'.format(FULL_COMMIT)
ERROR_HEADLINE = 'notifier: Pipeline for {0} finished with error!'.format(FULL_COMMIT)
SCRIPT_TIMEOUT = 30
LINT_STEPS = ('install', 'wemake-python-styleguide', 'import-contracts', 'deployment-files', 'lint-report')
TYPECHECK_STEPS = ('install', 'mypy')
TEST_STEPS = ('chromium', 'install', 'tests')
PYTHONS = ('3.10', '3.11', '3.12', '3.13')


def _load_script() -> ModuleType:
    spec = spec_from_file_location('notify_telegram', SCRIPT_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notify_telegram = _load_script()


def _steps(step_ids: tuple[str, ...], conclusions: Mapping[str, str]) -> str:
    """``toJSON(steps)`` of a job: each step's result, ``success`` unless ``conclusions`` says otherwise.

    Without ``continue-on-error`` (which these workflows do not use) a step's
    ``outcome`` and ``conclusion`` are the same.
    """
    assert set(conclusions) <= set(step_ids), 'no such step'
    steps = {
        step_id: {
            'outputs': {},
            'outcome': conclusions.get(step_id, PASSED),
            'conclusion': conclusions.get(step_id, PASSED),
        }
        for step_id in step_ids
    }
    return json.dumps(steps, indent=2)


def _job(step_ids: tuple[str, ...], by_output: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """One job of ``toJSON(needs)``: failed when a step failed, its steps in the named outputs."""
    failed = any(FAILED in conclusions.values() for conclusions in by_output.values())
    return {
        'result': FAILED if failed else PASSED,
        'outputs': {
            output_name: _steps(step_ids, conclusions)
            for output_name, conclusions in by_output.items()
        },
    }


def _needs(
    lint: Mapping[str, str] | None = None,
    typecheck: Mapping[str, str] | None = None,
    test: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """``toJSON(needs)`` of ci.yml's notify job, every step passed but those given.

    ``lint`` and ``typecheck`` map a step id to its conclusion; ``test`` maps a
    Python version to that leg's step conclusions (``{'3.12': {'tests': FAILED}}``).
    """
    test_legs = test or {}
    return {
        'lint': _job(LINT_STEPS, {'steps': lint or {}}),
        'typecheck': _job(TYPECHECK_STEPS, {'steps': typecheck or {}}),
        'test': _job(TEST_STEPS, {
            'python-{0}'.format(python.replace('.', '-')): test_legs.get(python, {})
            for python in PYTHONS
        }),
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
        'NEEDS_JSON': json.dumps(_needs(typecheck={'mypy': FAILED})),
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


def _message(needs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return str(notify_telegram.build_message(REPOSITORY, FULL_COMMIT, needs)).split('\n')


def test_success_message() -> None:
    """Every step of every job passed: one line, the brief's text with the repository and the whole hash."""
    assert _message(_needs()) == [SUCCESS_TEXT]


def test_one_failed_step_is_named() -> None:
    """mypy failed: the line names the step, not its job."""
    assert _message(_needs(typecheck={'mypy': FAILED})) == [ERROR_HEADLINE, 'mypy failed']


def test_failed_test_step_names_its_python() -> None:
    """The tests failed on one Python of the matrix: the step with that leg, the other legs not."""
    assert _message(_needs(test={'3.12': {'tests': FAILED}})) == [ERROR_HEADLINE, 'tests (Python 3.12) failed']


def test_two_failed_steps_in_two_jobs() -> None:
    """Two steps of two jobs failed: one line per step, in the order of the jobs."""
    needs = _needs(lint={'wemake-python-styleguide': FAILED}, test={'3.10': {'tests': FAILED}})

    assert _message(needs) == [
        ERROR_HEADLINE,
        'wemake-python-styleguide failed',
        'tests (Python 3.10) failed',
    ]


def test_two_failed_steps_in_one_job() -> None:
    """Two checks of the lint job failed (each runs after a failed one): a line each, not one for the job."""
    needs = _needs(lint={'wemake-python-styleguide': FAILED, 'import-contracts': FAILED})

    assert _message(needs) == [ERROR_HEADLINE, 'wemake-python-styleguide failed', 'import-contracts failed']


def test_same_step_on_two_pythons() -> None:
    """The tests failed on 3.11 and 3.13: two lines, each with its Python."""
    needs = _needs(test={'3.11': {'tests': FAILED}, '3.13': {'tests': FAILED}})

    assert _message(needs) == [ERROR_HEADLINE, 'tests (Python 3.11) failed', 'tests (Python 3.13) failed']


def test_steps_skipped_after_a_failure_are_not_listed() -> None:
    """The install failed, so the checks after it were skipped: only the install is named."""
    skipped = {step_id: SKIPPED for step_id in LINT_STEPS[1:]}

    assert _message(_needs(lint={'install': FAILED, **skipped})) == [ERROR_HEADLINE, 'install failed']


def test_cancelled_step_is_listed() -> None:
    """A step cancelled (the job timed out during it) did not pass: it is named."""
    needs = _needs(test={'3.13': {'tests': CANCELLED}})
    needs['test']['result'] = CANCELLED

    assert _message(needs) == [ERROR_HEADLINE, 'tests (Python 3.13) failed']


def test_step_allowed_to_fail_is_not_listed() -> None:
    """``continue-on-error``: the step's outcome is failure but its conclusion success; the job passed."""
    needs = _needs()
    lint_steps = json.loads(needs['lint']['outputs']['steps'])
    lint_steps['lint-report']['outcome'] = FAILED
    needs['lint']['outputs']['steps'] = json.dumps(lint_steps)

    assert _message(needs) == [SUCCESS_TEXT]


def test_job_failed_before_its_steps_is_named() -> None:
    """A leg whose service container never started hands over no steps: the job is named instead."""
    needs = _needs()
    needs['test'] = {'result': FAILED, 'outputs': {}}

    assert _message(needs) == [ERROR_HEADLINE, 'test failed']


def test_cancelled_job_named_skipped_job_not() -> None:
    """A job cancelled with no step on record is named; one skipped (its needs failed) is not."""
    needs = {
        'lint': {'result': CANCELLED, 'outputs': {}},
        'typecheck': {'result': SKIPPED, 'outputs': {}},
    }

    assert _message(needs) == [ERROR_HEADLINE, 'lint failed']


def test_outputs_that_are_not_steps_are_ignored() -> None:
    """Another output, or steps that are not JSON, name no step; the failed job still shows."""
    other_output = _steps(('upload',), {'upload': FAILED})
    needs = {'lint': {'result': FAILED, 'outputs': {'steps': 'not json', 'report-url': other_output}}}

    assert _message(needs) == [ERROR_HEADLINE, 'lint failed']


def test_commit_is_shown_whole() -> None:
    """The hash is the commit's, as given: not shortened, not padded."""
    assert notify_telegram.build_message(REPOSITORY, 'abc', {}) == 'notifier: Pipeline for abc finished successfully!'


def test_missing_token_exits_zero(bot_api: FakeBotApi) -> None:
    """Without the bot token the message is printed, not sent, and CI passes."""
    completed = _run_script({'TELEGRAM_CHAT_ID': CHAT_ID, 'TELEGRAM_API_URL': bot_api.url})

    assert completed.returncode == 0
    assert completed.stdout.splitlines() == [
        ERROR_HEADLINE,
        'mypy failed',
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
            'text': '{0}\nmypy failed'.format(ERROR_HEADLINE),
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
