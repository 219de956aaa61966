"""One JSON shape for every error: ``{"error": {"code", "message", "fields"}}``."""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

#: Field errors as marshmallow reports them, keyed by field.
FieldErrors = Mapping[str, Any] | None


class ApiError(Exception):
    """An error the API answers with its own status and code."""

    def __init__(
        self, status: int, code: str, message: str, fields: FieldErrors = None,
    ) -> None:
        """Describe the error as the client will see it."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


def field_errors(error: ValidationError) -> dict[str, Any]:
    """marshmallow's errors keyed by field (errors of the whole body under ``_schema``)."""
    messages = error.messages
    if isinstance(messages, dict):
        return messages
    return {'_schema': messages}


def error_response(status: int, code: str, message: str, fields: FieldErrors = None) -> Response:
    """The JSON error response."""
    payload: dict[str, Any] = {'code': code, 'message': message}
    if fields is not None:
        payload['fields'] = fields
    response = jsonify(error=payload)
    response.status_code = status
    return response


def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.fields)


def _http_error(error: HTTPException) -> Response:
    code = error.name.lower().replace(' ', '_')
    return error_response(error.code or HTTPStatus.INTERNAL_SERVER_ERROR, code, error.description or error.name)


def register_error_handlers(app: Flask) -> None:
    """Answer API and HTTP errors as JSON."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
