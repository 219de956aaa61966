"""A reference implementation of the user directory contract (docs/user-directory.md), for tests.

It keeps users in memory, records every request, and can be told to fail,
so tests see exactly how the notifier calls the auth service.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from werkzeug.serving import make_server

MAX_BATCH = 500


class ReferenceDirectory:
    """The users, segments, the log of requests and an optional failure to answer with."""

    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.segments: dict[str, list[str]] = {}
        self.requests: list[str] = []
        #: Answer the next ``len(failures)`` requests with these statuses.
        self.failures: list[int] = []
        self.url = ''
        self._lock = threading.Lock()

    def add(self, user_id: str, segments: tuple[str, ...] = (), **user_fields: Any) -> None:
        """A user of the directory."""
        self.users[user_id] = {'id': user_id, **user_fields}
        for segment in segments:
            self.segments.setdefault(segment, []).append(user_id)

    def app(self) -> Flask:
        """The Flask app serving the contract under ``/api/v1/users``."""
        app = Flask('reference_users')
        app.before_request(self._record)
        app.add_url_rule('/api/v1/users/<user_id>', view_func=self._get, methods=['GET'])
        app.add_url_rule('/api/v1/users/batch', view_func=self._batch, methods=['POST'])
        app.add_url_rule('/api/v1/users', view_func=self._page, methods=['GET'])
        return app

    def _record(self) -> Response | None:
        with self._lock:
            self.requests.append('{0} {1}'.format(request.method, request.full_path.rstrip('?')))
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            return Response('failing on purpose', status=failure)
        return None

    def _get(self, user_id: str) -> Response:
        found = self.users.get(user_id)
        if found is None:
            abort(404)
        return jsonify(found)

    def _batch(self) -> Response:
        ids = (request.get_json(silent=True) or {}).get('ids')
        if not isinstance(ids, list) or len(ids) > MAX_BATCH:
            abort(400)
        return jsonify({'users': [self.users[user_id] for user_id in ids if user_id in self.users]})

    def _page(self) -> Response:
        segment = request.args.get('segment', 'all')
        limit = min(int(request.args.get('limit', '100')), MAX_BATCH)
        after = request.args.get('after')
        members = sorted(self.users) if segment == 'all' else sorted(self.segments.get(segment, ()))
        if not members and segment not in self.segments:
            abort(404)
        if after is not None:
            members = [user_id for user_id in members if user_id > after]
        page = members[:limit]
        next_cursor = page[-1] if len(page) == limit and len(members) > limit else None
        return jsonify({'users': [self.users[user_id] for user_id in page], 'next_cursor': next_cursor})


@contextmanager
def serving(directory: ReferenceDirectory) -> Iterator[ReferenceDirectory]:
    """Serve ``directory`` on a free local port in a thread; ``directory.url`` is its users URL."""
    server = make_server('127.0.0.1', 0, directory.app(), threaded=True)
    directory.url = 'http://127.0.0.1:{0}/api/v1/users'.format(server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield directory
    finally:
        server.shutdown()
        thread.join(timeout=10)
