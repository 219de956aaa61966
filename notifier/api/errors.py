"""One JSON shape for every error: ``{"error": {"code", "message", "fields"?}}``.

Every 4xx and 5xx answer has it: the API's own errors, Flask's and Werkzeug's
(404 of an unknown route, 405, 413 over ``MAX_CONTENT_LENGTH``), and any
unexpected exception, which is logged with its traceback and answered as a
500 that says nothing about the code.
"""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from notifier.extensions import discard_session

from notifier.schemas.errors import ErrorSchema

#: Field errors as marshmallow reports them, keyed by field.
FieldErrors = Mapping[str, Any] | None
#: Headers of a Werkzeug error that a JSON answer must not copy (it sets its own).
_BODY_HEADERS = frozenset(('content-type', 'content-length'))
logger = logging.getLogger(__name__)


RETRY_AFTER_SECONDS = 1


class ApiError(Exception):
    """An error the API answers with its own status and code."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: FieldErrors = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Describe the error as the client will see it."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = dict(headers or {})


def field_errors(error: ValidationError) -> dict[str, Any]:
    """marshmallow's errors keyed by field (errors of the whole body under ``_schema``)."""
    messages = error.messages
    if isinstance(messages, dict):
        return messages
    return {'_schema': messages}


def error_response(status: int, code: str, message: str, fields: FieldErrors = None) -> Response:
    """The JSON error response."""
    detail: dict[str, Any] = {'code': code, 'message': message}
    if fields is not None:
        detail['fields'] = fields
    response = jsonify(ErrorSchema().dump({'error': detail}))
    response.status_code = status
    return response


def _api_error(error: ApiError) -> Response:
    response = error_response(error.status, error.code, error.message, error.fields)
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> Response | HTTPException:
    status = error.code or HTTPStatus.INTERNAL_SERVER_ERROR
    if status < HTTPStatus.BAD_REQUEST:
        return error  # a redirect (e.g. a missing trailing slash) is not an error
    code = error.name.lower().replace(' ', '_')
    response = error_response(status, code, error.description or error.name)
    for header, header_value in error.get_headers():
        if header.lower() not in _BODY_HEADERS:
            response.headers[header] = header_value  # e.g. Allow of a 405
    return response


def _unexpected_error(error: Exception) -> Response:
    logger.exception('unexpected error answering %s %r', request.method, request.path)
    return error_response(
        HTTPStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'an unexpected error occurred; it was logged',
    )


def _database_unavailable(error: OperationalError) -> Response:
    logger.warning('database unavailable answering %s %r: %s', request.method, request.path, error)
    discard_session()
    response = error_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        'database_unavailable',
        'the database did not answer; retry (with the same Idempotency-Key) in a moment',
    )
    response.headers['Retry-After'] = str(RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    """Answer API errors, HTTP errors and unexpected exceptions as JSON."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
