"""A request id for every HTTP request, and one access line per request.

The id is the caller's ``X-Request-ID`` when it is safe to log (short, no
spaces or line breaks), else a new one; the answer always carries it back.
It is bound to the log context for the whole request, so the outbox row the
request writes carries it on to every stage of the pipeline.

The access line names the route template (``/api/v1/notifications/<notification_id>``),
never the path or the query string, which may hold tokens.
"""

import logging
from typing import Final

from flask import Flask, Response, request

from notifier.api.metrics import UNMATCHED
from notifier.observability.log_context import (
    HTTP_REQUEST_ID_HEADER,
    bind,
    clean_id,
    current_request_id,
    new_request_id,
    unbind,
)

access_logger = logging.getLogger('notifier.access')
_TOKEN: Final = 'notifier_log_context'
#: Probes and scrapes come every few seconds: their lines are DEBUG.
_QUIET_ROUTES: Final = frozenset(('/healthz', '/readyz', '/metrics'))


def _bind_request_id() -> None:
    request_id = clean_id(request.headers.get(HTTP_REQUEST_ID_HEADER)) or new_request_id()
    request.environ[_TOKEN] = bind(request_id=request_id)


def _answer(response: Response) -> Response:
    request_id = current_request_id()
    if request_id is not None:
        response.headers[HTTP_REQUEST_ID_HEADER] = request_id
    rule = request.url_rule
    route = rule.rule if rule is not None else UNMATCHED
    level = logging.DEBUG if route in _QUIET_ROUTES else logging.INFO
    access_logger.log(level, '%s %s -> %d', request.method, route, response.status_code)
    return response


def _unbind(error: BaseException | None) -> None:
    token = request.environ.pop(_TOKEN, None)
    if token is not None:
        unbind(token)


def install_request_ids(app: Flask) -> None:
    """Bind a request id before every request (install it first), answer it, log the request."""
    app.before_request(_bind_request_id)
    app.after_request(_answer)
    app.teardown_request(_unbind)
