"""JSON provider transports a channel plugin may reuse: a directory (one JSON file each) or an HTTP endpoint.

Part of the public channel surface, with :mod:`notifier.channels.base`; the SMS
and push stub plugins deliver through it.

HTTP answers map to the channel contract: 2xx sent; 408, 429 and 5xx, a
timeout or a refused connection are temporary (the pipeline retries later);
any other answer is permanent (the delivery is parked with the reason).
"""

import json
import os
import socket
import tempfile
import time
from collections.abc import Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, Protocol
from urllib import request as url_request
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from notifier.channels.base import SendResult

TEMPORARY_STATUSES: Final = frozenset((HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS))
_MAX_DETAIL: Final = 200


class Transport(Protocol):
    """Hands one provider request over."""

    def deliver(self, payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        """Send the request; the key is the same for every attempt of one delivery."""


class DirectoryTransport:
    """Writes ``<key>.json`` into a directory; writing it again replaces the same file."""

    def __init__(self, directory: Path) -> None:
        """Create the directory lazily."""
        self._directory = directory

    def deliver(self, payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        """Write the request atomically; a full disk is a temporary failure."""
        target = self._directory / '{0}.json'.format(idempotency_key)
        try:
            self._write(payload, target)
        except OSError as error:
            return SendResult.temporary('cannot write {0}: {1}'.format(target, error))
        return SendResult.sent(idempotency_key)

    def _write(self, payload: Mapping[str, Any], target: Path) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        descriptor, temp_name = tempfile.mkstemp(dir=self._directory, suffix='.tmp')
        with os.fdopen(descriptor, 'w', encoding='utf-8') as request_file:
            json.dump(payload, request_file, ensure_ascii=False)
        os.replace(temp_name, target)


class HttpTransport:
    """POSTs the request as JSON with an ``Idempotency-Key`` header."""

    def __init__(self, url: str, timeout: float) -> None:
        """Keep the endpoint; every send is one request."""
        self._url = url
        self._timeout = timeout

    def deliver(self, payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        """POST and classify the answer."""
        request = url_request.Request(  # noqa: S310 - the scheme is checked by the settings schema
            self._url,
            data=json.dumps(payload).encode(),
            headers={'Content-Type': 'application/json', 'Idempotency-Key': idempotency_key},
            method='POST',
        )
        try:
            response_body = self._post(request)
        except HTTPError as error:
            return _classified(error.code, error.read())
        except (URLError, socket.timeout, ConnectionError) as error:
            return SendResult.temporary('provider unreachable: {0}'.format(error))
        return SendResult.sent(_message_id(response_body))

    def _post(self, request: url_request.Request) -> bytes:
        with url_request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            return bytes(response.read())


class FailingTransport:
    """The test mode: answers ``fail`` for the first ``fail_count`` sends (all if 0), then delegates."""

    def __init__(self, inner: Transport, fail: str, fail_count: int) -> None:
        """Wrap the real transport."""
        self._inner = inner
        self._fail = fail
        self._remaining = fail_count or None

    def deliver(self, payload: Mapping[str, Any], idempotency_key: str) -> SendResult:
        """Fail as told, or send."""
        if self._remaining == 0:
            return self._inner.deliver(payload, idempotency_key)
        if self._remaining is not None:
            self._remaining -= 1
        if self._fail == 'temporary':
            return SendResult.temporary('stub provider told to fail temporarily')
        return SendResult.permanent('stub provider told to fail permanently')


class RateLimiter:
    """At most ``rate`` sends per second in this process (0: no limit)."""

    def __init__(self, rate: float) -> None:
        """Start with no send in the past."""
        self._interval: float = 1 / rate if rate else 0
        self._next_at: float = 0

    def wait(self) -> None:
        """Sleep until the next send is allowed."""
        if not self._interval:
            return
        now = time.monotonic()
        if self._next_at > now:
            time.sleep(self._next_at - now)
        self._next_at = max(now, self._next_at) + self._interval


def open_transport(url: str, timeout: float, fail: str = '', fail_count: int = 0) -> Transport:
    """The transport a validated URL names, wrapped in the fail mode when one is set."""
    parts = urlsplit(url)
    transport: Transport
    if parts.scheme == 'file':
        transport = DirectoryTransport(Path(parts.netloc + parts.path))
    else:
        transport = HttpTransport(url, timeout)
    if fail:
        return FailingTransport(transport, fail, fail_count)
    return transport


def _classified(status: int, body: bytes) -> SendResult:
    detail = 'provider answered {0}: {1}'.format(status, body[:_MAX_DETAIL].decode(errors='replace'))
    if status in TEMPORARY_STATUSES or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return SendResult.temporary(detail)
    return SendResult.permanent(detail)


def _message_id(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if isinstance(answer, dict) and isinstance(answer.get('message_id'), str):
        return str(answer['message_id'])[:_MAX_DETAIL]
    return None
