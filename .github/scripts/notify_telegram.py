#!/usr/bin/env python3
"""Send the result of a CI pipeline to a Telegram chat.

The workflow's final job runs this script with the results of the jobs
it needs (``toJSON(needs)``) and posts one message in the brief's format::

    {repository}: Pipeline for {commit} finished successfully!

or::

    {repository}: Pipeline for {commit} finished with error!
    {job} failed

Environment:

- ``REPOSITORY``: the repository name (falls back to ``GITHUB_REPOSITORY``).
- ``COMMIT``: the commit hash (falls back to ``GITHUB_SHA``); 7 chars shown.
- ``NEEDS_JSON``: ``{"job": {"result": "success|failure|cancelled|skipped"}}``.
- ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_CHAT_ID``: the bot and the chat.
- ``TELEGRAM_API_URL``: the Bot API base URL (tests point it at a local
  server); defaults to the public Bot API.

A notification must never fail the pipeline: a missing secret, a network
error or an error answer from Telegram prints one line and exits 0.
Standard library only, so the job needs no ``pip install``.
"""

import json
import os
import sys
from collections.abc import Mapping
from urllib.error import HTTPError
from urllib.request import Request, urlopen

DEFAULT_API_URL = 'https://api.telegram.org'
TIMEOUT_SECONDS = 10
SHORT_HASH_LENGTH = 7
FAILED_RESULTS = frozenset(('failure', 'cancelled'))
SECRET_NAMES = ('TELEGRAM_BOT_TOKEN', 'TELEGRAM_CHAT_ID')

UNREACHABLE_LINE = 'telegram: cannot reach the Bot API: {0}; message not sent'
BAD_NEEDS_LINE = (
    'telegram: NEEDS_JSON is not a JSON object ({0}); message not sent'
)

JobResults = Mapping[str, Mapping[str, object]]


def failed_jobs(needs: JobResults) -> list[str]:
    """Return the names of the jobs that failed or were cancelled, in order.

    A job skipped because a job it needs failed is not listed: the job
    that really failed already is.
    """
    return [
        job_name
        for job_name, job in needs.items()
        if job.get('result') in FAILED_RESULTS
    ]


def build_message(repository: str, commit: str, needs: JobResults) -> str:
    """Build the message text in the brief's format."""
    short_commit = commit[:SHORT_HASH_LENGTH]
    failed = failed_jobs(needs)
    if not failed:
        return '{0}: Pipeline for {1} finished successfully!'.format(
            repository, short_commit,
        )
    lines = ['{0}: Pipeline for {1} finished with error!'.format(
        repository, short_commit,
    )]
    lines.extend('{0} failed'.format(job_name) for job_name in failed)
    return '\n'.join(lines)


def missing_secrets(environ: Mapping[str, str]) -> list[str]:
    """Return the names of the Telegram secrets that are unset or empty."""
    return [name for name in SECRET_NAMES if not environ.get(name)]


def describe_missing(names: list[str]) -> str:
    """Return the log line for missing secrets."""
    verb = 'is' if len(names) == 1 else 'are'
    return 'telegram: {0} {1} not set; message not sent'.format(
        ' and '.join(names), verb,
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
    missing = missing_secrets(environ)
    if missing:
        return describe_missing(missing)
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
