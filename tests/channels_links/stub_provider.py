"""A stub SMS/push provider over HTTP: records every request, and can be told to fail."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubProvider:
    """What the provider received, and the failures it still has to answer."""

    url: str = ''
    received: list[dict[str, Any]] = field(default_factory=list)
    idempotency_keys: list[str] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer ``status`` to the next ``times`` requests."""
        with self.lock:
            self.failures.extend([status for _ in range(times)])

    def accepted(self) -> list[dict[str, Any]]:
        """The requests that were answered 200."""
        with self.lock:
            return [body for body in self.received if body.get('_status') == 200]


def _request_handler(provider: StubProvider) -> type[BaseHTTPRequestHandler]:
    class StubRequestHandler(BaseHTTPRequestHandler):  # noqa: WPS431 - bound to this provider
        def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
            length = int(self.headers.get('Content-Length', 0))
            body = json.loads(self.rfile.read(length))
            with provider.lock:
                status = provider.failures.pop(0) if provider.failures else 200
                provider.received.append({**body, '_status': status})
                provider.idempotency_keys.append(self.headers.get('Idempotency-Key', ''))
            answer = json.dumps({'message_id': 'stub-{0}'.format(body.get('id'))} if status == 200 else {'error': 'x'})
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    return StubRequestHandler


@contextmanager
def serving(path: str = '/send') -> Iterator[StubProvider]:
    """The provider on a free local port until the block ends."""
    provider = StubProvider()
    server = ThreadingHTTPServer(('127.0.0.1', 0), _request_handler(provider))
    provider.url = 'http://127.0.0.1:{0}{1}'.format(server.server_address[1], path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        _stop(server, thread)


def _stop(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
