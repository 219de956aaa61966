"""``GET/PUT /api/v1/users/<id>/preferences``: what a user wants, for the site's settings page.

Service-to-service like the rest of ``/api/v1`` (bearer token). ``PUT``
replaces the whole document, so repeating it is harmless.
"""

from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from notifier.api.auth import READ, USERS_WRITE, require_token, requires_scope
from notifier.api.errors import ApiError, field_errors
from notifier.extensions import db
from notifier.preferences.store import read_preferences, write_preferences
from notifier.preferences.subjects import user_subject
from notifier.schemas.preferences import PreferencesResponseSchema, load_preferences

MAX_USER_ID_LENGTH = 64

preferences_blueprint = Blueprint('preferences', __name__, url_prefix='/api/v1')
preferences_blueprint.before_request(require_token)


def _subject(user_id: str) -> str:
    if len(user_id) > MAX_USER_ID_LENGTH or '\x00' in user_id:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the user id is invalid',
            {'user_id': ['at most {0} characters, no NUL'.format(MAX_USER_ID_LENGTH)]},
        )
    return user_subject(user_id)


def _answer(user_id: str) -> Response:
    document = read_preferences(db.session(), user_subject(user_id))
    return jsonify(PreferencesResponseSchema().dump({'user_id': user_id, **document}))


@preferences_blueprint.get('/users/<user_id>/preferences')
@requires_scope(READ)
def get_preferences(user_id: str) -> Response:
    """The user's preferences; everything on when they chose nothing."""
    _subject(user_id)
    return _answer(user_id)


@preferences_blueprint.put('/users/<user_id>/preferences')
@requires_scope(USERS_WRITE)
def put_preferences(user_id: str) -> Response:
    """Replace the user's preferences; 422 with the field errors when the document is invalid."""
    subject = _subject(user_id)
    raw_body: Any = request.get_json(silent=True)
    if not isinstance(raw_body, dict):
        raise ApiError(
            HTTPStatus.BAD_REQUEST, 'bad_json', 'the body must be a JSON object (Content-Type: application/json)',
        )
    try:
        document = load_preferences(raw_body)
    except ValidationError as error:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the preferences have invalid fields',
            field_errors(error),
        )
    write_preferences(db.session(), subject, document)
    return _answer(user_id)
