"""``POST /api/v1/events``: other services announce what happened."""

import json
from http import HTTPStatus
from typing import Any

from flask import Response, jsonify, request
from marshmallow import ValidationError

from notifier.api.errors import ApiError, field_errors
from notifier.api.schedule_views import schedule_view
from notifier.api.views import notification_summary
from notifier.settings import settings_of
from notifier.constants import MAX_KEY_LENGTH
from notifier.extensions import db
from notifier.observability import metrics
from notifier.schemas.events import EventSchema
from notifier.services.accept import IdempotencyConflictError, Intake, accept_event
from notifier.services.periodic_events import accept_periodic_event

NOT_A_JSON_OBJECT = 'the body must be a JSON object (Content-Type: application/json)'
#: Built once: building a marshmallow schema costs more than loading an event with it.
EVENT_SCHEMA = EventSchema()


def _idempotency_key() -> str | None:
    key = request.headers.get('Idempotency-Key')
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or '\x00' in key:
        raise ApiError(
            HTTPStatus.BAD_REQUEST,
            'bad_idempotency_key',
            'Idempotency-Key must be 1 to {0} characters'.format(MAX_KEY_LENGTH),
        )
    return key


def json_object() -> dict[str, Any]:
    """The body as a JSON object of text that UTF-8 can store, or a 400."""
    try:
        raw_body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes
        raw_body = None
    if not isinstance(raw_body, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_json', NOT_A_JSON_OBJECT)
    try:
        json.dumps(raw_body, ensure_ascii=False).encode()
    except (UnicodeEncodeError, RecursionError):  # a lone surrogate (\ud800) cannot be stored or hashed
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_json', 'the body must be valid Unicode text')
    return raw_body


def post_event() -> Response:
    """Accept an event; the notification and its outbox row are committed before the 202 (the relay queues it)."""
    raw_body = json_object()
    key = _idempotency_key()
    try:
        event = EVENT_SCHEMA.load(raw_body)
    except ValidationError as error:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the event has invalid fields',
            field_errors(error),
        )
    if event['meta']['periodic']:
        return _post_periodic(event, raw_body, key)
    settings = settings_of()
    try:
        intake = Intake(settings.default_locale, local_directory=not settings.users_url)
        accepted = accept_event(db.session(), event, raw_body, key, intake)
    except IdempotencyConflictError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'idempotency_conflict', str(error))
    if accepted.created:
        metrics.events_accepted.labels(type=accepted.notification.type).inc()
    response = jsonify(notification_summary(accepted.notification, replayed=not accepted.created))
    response.status_code = HTTPStatus.ACCEPTED
    return response


def _post_periodic(event: dict[str, Any], raw_body: Any, key: str | None) -> Response:
    """A periodic event becomes its schedule: ``201`` with it (``200`` when a retry replays it)."""
    try:
        scheduled = accept_periodic_event(db.session(), event, raw_body, key)
    except ValidationError as error:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the periodic event cannot be a schedule',
            {'meta': field_errors(error)},
        )
    except IdempotencyConflictError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'idempotency_conflict', str(error))
    response = jsonify(schedule_view(scheduled.schedule))
    response.status_code = HTTPStatus.CREATED if scheduled.created else HTTPStatus.OK
    response.headers['Location'] = '/api/v1/schedules/{0}'.format(scheduled.schedule.id)
    return response
