#!/usr/bin/env python3
"""Send the result of a CI pipeline to a Telegram chat.

The workflow's final job runs this script with the results of the jobs
it needs (``toJSON(needs)``) and posts one message in the brief's format::

    {repository}: Pipeline for {commit} finished successfully!

or, with one line per failed step::

    {repository}: Pipeline for {commit} finished with error!
    {step} failed

Each job hands its steps' results to the notify job as a job output
holding ``toJSON(steps)``: the output ``steps`` for a plain job, and one
output per matrix leg, ``python-3-12`` for the leg on Python 3.12 (GitHub
keeps a matrix's outputs apart only when their names differ). A failed
step is named by its id, followed by its leg: ``mypy failed``,
``tests (Python 3.12) failed``. A job that failed or was cancelled with no
failed step on record (it failed before its steps ran, or it hands over
no steps) is named instead: ``test failed``.

Environment:

- ``REPOSITORY``: the repository name (falls back to ``GITHUB_REPOSITORY``).
- ``COMMIT``: the commit hash (falls back to ``GITHUB_SHA``), shown whole.
- ``NEEDS_JSON``: ``{"job": {"result": "success|failure|cancelled|skipped",
  "outputs": {"steps": "<toJSON(steps)>"}}}``.
- ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_CHAT_ID``: the bot and the chat.
- ``TELEGRAM_API_URL``: the Bot API base URL (tests point it at a local
  server); defaults to the public Bot API.

A notification must never fail the pipeline: a missing secret, a network
error or an error answer from Telegram prints one line and exits 0.
Standard library only, so the job needs no ``pip install``.
"""

import json
import os
import re
import sys
from collections.abc import Mapping
from urllib.error import HTTPError
from urllib.request import Request, urlopen

DEFAULT_API_URL = 'https://api.telegram.org'
TIMEOUT_SECONDS = 10
FAILED_RESULTS = frozenset(('failure', 'cancelled'))
SECRET_NAMES = ('TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID')
#: The job output with a plain job's ``toJSON(steps)``.
STEPS_OUTPUT = 'steps'
#: The job output with the ``toJSON(steps)`` of a matrix leg: ``python-3-12``.
PYTHON_LEG_OUTPUT = re.compile(r'python-(?P<major>[0-9]+)-(?P<minor>[0-9]+)')

UNREACHABLE_LINE = 'telegram: cannot reach the Bot API: {0}; message not sent'
BAD_NEEDS_LINE = (
    'telegram: NEEDS_JSON is not a JSON object ({0}); message not sent'
)

JobResults = Mapping[str, Mapping[str, object]]


def failed_step_ids(steps_json: object) -> list[str]:
    """Return the ids of the failed or cancelled steps in ``toJSON(steps)``.

    A step counts by its ``conclusion`` (a step allowed to fail by
    ``continue-on-error`` did not fail its job); a step skipped because
    an earlier one failed is not listed.
    """
    if not isinstance(steps_json, str):
        return []
    try:
        steps = json.loads(steps_json)
    except ValueError:
        return []
    if not isinstance(steps, dict):
        return []
    return [
        step_id
        for step_id, step in steps.items()
        if isinstance(step, dict) and step.get('conclusion') in FAILED_RESULTS
    ]


def failed_steps(job: Mapping[str, object]) -> list[str]:
    """Return the names of the failed steps a job handed over, in order.

    A step's name is its id, followed by the matrix leg of the output
    that held it: the output ``steps`` has no leg, the output
    ``python-3-12`` is the leg `` (Python 3.12)``; other outputs hold no
    steps.
    """
    outputs = job.get('outputs')
    if not isinstance(outputs, dict):
        return []
    names: list[str] = []
    for output_name, steps_json in outputs.items():
        python_leg = PYTHON_LEG_OUTPUT.fullmatch(output_name)
        if python_leg is not None:
            leg = ' (Python {0}.{1})'.format(
                python_leg['major'], python_leg['minor'],
            )
        elif output_name == STEPS_OUTPUT:
            leg = ''
        else:
            continue
        names.extend(
            '{0}{1}'.format(step_id, leg)
            for step_id in failed_step_ids(steps_json)
        )
    return names


def build_message(repository: str, commit: str, needs: JobResults) -> str:
    """Build the message text in the brief's format.

    One ``… failed`` line per failed step; a job that failed or was
    cancelled with no failed step on record is named instead. A job
    skipped because a job it needs failed is not listed: the job that
    really failed already is.
    """
    failed: list[str] = []
    for job_name, job in needs.items():
        names = failed_steps(job)
        if not names and job.get('result') in FAILED_RESULTS:
            names = [job_name]
        failed.extend('{0} failed'.format(name) for name in names)
    if not failed:
        return '{0}: Pipeline for {1} finished successfully!'.format(
            repository, commit,
        )
    headline = '{0}: Pipeline for {1} finished with error!'.format(
        repository, commit,
    )
    return '\n'.join([headline, *failed])


def describe_missing(environ: Mapping[str, str]) -> str | None:
    """Return the log line for unset or empty secrets, ``None`` if all set."""
    missing = [name for name in SECRET_NAMES if not environ.get(name)]
    if not missing:
        return None
    verb = 'is' if len(missing) == 1 else 'are'
    return 'telegram: {0} {1} not set; message not sent'.format(
        ' and '.join(missing), verb,
    )


def send_message(api_url: str, token: str, chat_id: str, text: str) -> None:
    """Post ``text`` to the chat through the Bot API ``sendMessage`` method.

    Raises ``OSError`` (``URLError``, ``HTTPError``, timeouts)
    when the message was not delivered to Telegram.
    """
    url = '{0}/bot{1}/sendMessage'.format(api_url.rstrip('/'), token)
    body = json.dumps({'chat_id': chat_id, 'text': text}).encode('utf-8')
    request = Request(
        url,
        data=body,
        headers={'Content-Type': 'application/json'},
        method='POST',
    )
    with urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        response.read()


def describe_http_error(error: HTTPError) -> str:
    """Return one log line for an error answer, with Telegram's reason."""
    try:
        description = json.loads(error.read()).get('description', '')
    except (ValueError, AttributeError, OSError):
        description = ''
    line = 'telegram: sendMessage failed: HTTP {0}'.format(error.code)
    if description:
        return '{0}: {1}; message not sent'.format(line, description)
    return '{0}; message not sent'.format(line)


def read_needs(environ: Mapping[str, str]) -> JobResults:
    """Parse ``NEEDS_JSON``; raise ``ValueError`` when it is not an object."""
    needs = json.loads(environ.get('NEEDS_JSON') or '{}')
    if not isinstance(needs, dict):
        raise ValueError('expected a JSON object')
    return {
        job_name: job if isinstance(job, dict) else {}
        for job_name, job in needs.items()
    }


def deliver(environ: Mapping[str, str], text: str) -> str:
    """Send ``text`` if the secrets are set; return the line to log."""
    missing_line = describe_missing(environ)
    if missing_line is not None:
        return missing_line
    try:
        send_message(
            environ.get('TELEGRAM_API_URL') or DEFAULT_API_URL,
            environ['TELEGRAM_BOT_TOKEN'],
            environ['TELEGRAM_CHAT_ID'],
            text,
        )
    except HTTPError as http_error:
        return describe_http_error(http_error)
    except OSError as network_error:
        reason = getattr(network_error, 'reason', network_error)
        return UNREACHABLE_LINE.format(reason)
    return 'telegram: message sent'


def log(line: str) -> None:
    """Write one line to the job's log (standard output)."""
    sys.stdout.write('{0}\n'.format(line))


def main(environ: Mapping[str, str] | None = None) -> int:
    """Build the message from the environment, print it and send it."""
    env = os.environ if environ is None else environ
    repository = env.get('REPOSITORY') or (
        env.get('GITHUB_REPOSITORY', '').rpartition('/')[2]
    )
    commit = env.get('COMMIT') or env.get('GITHUB_SHA', '')
    try:
        needs = read_needs(env)
    except ValueError as parse_error:
        log(BAD_NEEDS_LINE.format(parse_error))
        return 0
    text = build_message(repository, commit, needs)
    log(text)
    log(deliver(env, text))
    return 0


if __name__ == '__main__':
    sys.exit(main())
