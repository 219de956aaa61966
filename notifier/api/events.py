"""``POST /api/v1/events``: other services announce what happened."""

from http import HTTPStatus

from flask import Response, jsonify, request
from marshmallow import ValidationError

from notifier.api.errors import ApiError, field_errors
from notifier.api.publisher import current_publisher
from notifier.api.views import notification_summary
from notifier.settings import settings_of
from notifier.constants import MAX_KEY_LENGTH
from notifier.extensions import db
from notifier.schemas.events import EventSchema
from notifier.services.accept import IdempotencyConflictError, accept_event


def _idempotency_key() -> str | None:
    key = request.headers.get('Idempotency-Key')
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            'bad_idempotency_key',
            'Idempotency-Key must be 1 to {0} characters'.format(MAX_KEY_LENGTH),
        )
    return key


def post_event() -> Response:
    """Accept an event; the notification is stored and queued before the 202."""
    raw_body = request.get_json(silent=True)
    if not isinstance(raw_body, dict):
        raise ApiError(
            HTTPStatus.BAD_REQUEST, 'bad_json', 'the body must be a JSON object (Content-Type: application/json)',
        )
    key = _idempotency_key()
    try:
        event = EventSchema().load(raw_body)
    except ValidationError as error:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the event has invalid fields',
            field_errors(error),
        )
    try:
        accepted = accept_event(db.session(), event, raw_body, key, settings_of().default_locale)
    except IdempotencyConflictError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'idempotency_conflict', str(error))
    if accepted.outbox_ids:
        current_publisher().publish_outbox(accepted.outbox_ids)
    response = jsonify(notification_summary(accepted.notification, replayed=not accepted.created))
    response.status_code = HTTPStatus.ACCEPTED
    return response
