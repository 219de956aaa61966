"""``/api/v1/schedules``: periodic notifications (create, read, change, pause, delete)."""

from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select

from notifier.api.auth import ADMIN, READ, require_token, requires_scope
from notifier.api.notifications import MAX_ID_LENGTH
from notifier.api.errors import ApiError, field_errors
from notifier.extensions import db
from notifier.api.schedule_views import schedule_view
from notifier.models import Schedule
from notifier.models.base import utcnow
from notifier.schemas.schedules import ScheduleSchema, check_timing
from notifier.services.schedules import ScheduleNameTakenError, as_loaded, create_schedule, update_schedule

schedules_blueprint = Blueprint('schedules', __name__, url_prefix='/api/v1/schedules')
schedules_blueprint.before_request(require_token)


def _body() -> dict[str, Any]:
    raw_body = request.get_json(silent=True)
    if not isinstance(raw_body, dict):
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_json', 'the body must be a JSON object')
    return raw_body


def _invalid(error: ValidationError) -> ApiError:
    return ApiError(
        HTTPStatus.UNPROCESSABLE_ENTITY, 'validation_failed', 'the schedule has invalid fields', field_errors(error),
    )


def _found(schedule_id: str) -> Schedule:
    schedule = None
    if len(schedule_id) <= MAX_ID_LENGTH and '\x00' not in schedule_id:  # ids are UUIDs
        schedule = db.session.get(Schedule, schedule_id)
    if schedule is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no schedule {0}'.format(schedule_id))
    return schedule


def _saved(action: Any) -> Schedule:
    try:
        saved: Schedule = action()
    except ScheduleNameTakenError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'name_taken', str(error))
    return saved


@schedules_blueprint.post('')
@requires_scope(ADMIN)
def post_schedule() -> tuple[Response, int]:
    """Create a schedule; it first fires at its first fire time after now."""
    try:
        loaded = ScheduleSchema().load(_body())
        check_timing(loaded)
    except ValidationError as error:
        raise _invalid(error)
    schedule = _saved(lambda: create_schedule(db.session(), loaded, utcnow()))
    return jsonify(schedule_view(schedule)), HTTPStatus.CREATED


@schedules_blueprint.get('')
@requires_scope(READ)
def list_schedules() -> Response:
    """Every schedule, by name."""
    found = db.session.scalars(select(Schedule).order_by(Schedule.name)).all()
    return jsonify(items=[schedule_view(schedule) for schedule in found])


@schedules_blueprint.get('/<schedule_id>')
@requires_scope(READ)
def get_schedule(schedule_id: str) -> Response:
    """One schedule and its recent occurrences."""
    return jsonify(schedule_view(_found(schedule_id)))


@schedules_blueprint.patch('/<schedule_id>')
@requires_scope(ADMIN)
def patch_schedule(schedule_id: str) -> Response:
    """Change some fields; the next fire time follows the new timing. Never fires anything by itself."""
    schedule = _found(schedule_id)
    try:
        changes = ScheduleSchema(partial=True).load(_body())
        check_timing({**as_loaded(schedule), **changes})
    except ValidationError as error:
        raise _invalid(error)
    updated = _saved(lambda: update_schedule(db.session(), schedule, changes, utcnow()))
    return jsonify(schedule_view(updated))


@schedules_blueprint.delete('/<schedule_id>')
@requires_scope(ADMIN)
def delete_schedule(schedule_id: str) -> tuple[str, int]:
    """Delete a schedule (its occurrences go with it; notifications already sent stay)."""
    schedule = _found(schedule_id)
    db.session.delete(schedule)
    db.session.commit()
    return '', HTTPStatus.NO_CONTENT
