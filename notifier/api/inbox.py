"""``/api/v1/users/<id>/inbox``: a user's websocket notifications, for the site's notification centre.

Service-to-service like the rest of ``/api/v1`` (bearer token): the site
reads the inbox and marks items read on behalf of its logged-in user.
Marking read is idempotent: an item keeps the time it was first read.
"""

from http import HTTPStatus

from flask import Blueprint, Response, jsonify, request
from marshmallow import ValidationError

from notifier.api.auth import READ, USERS_WRITE, require_token, requires_scope
from notifier.api.errors import ApiError, field_errors
from notifier.api.pagination import Cursor, decode_cursor
from notifier.extensions import db
from notifier.inbox.store import Position, inbox_page, mark_all_read, mark_read, unread_count
from notifier.schemas.inbox import InboxItemSchema, InboxPageSchema, InboxQuerySchema, ReadAllSchema

MAX_USER_ID_LENGTH = 64
#: Inbox item ids are UUIDs; anything longer (or with NUL) cannot name one.
MAX_ITEM_ID_LENGTH = 36

inbox_blueprint = Blueprint('inbox', __name__, url_prefix='/api/v1')
inbox_blueprint.before_request(require_token)


def _checked_user(user_id: str) -> str:
    if len(user_id) > MAX_USER_ID_LENGTH or '\x00' in user_id:
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            'validation_failed',
            'the user id is invalid',
            {'user_id': ['at most {0} characters, no NUL'.format(MAX_USER_ID_LENGTH)]},
        )
    return user_id


@inbox_blueprint.get('/users/<user_id>/inbox')
@requires_scope(READ)
def get_inbox(user_id: str) -> Response:
    """A page of the user's inbox, newest first, and how many items are unread."""
    _checked_user(user_id)
    try:
        query_args = InboxQuerySchema().load(request.args)
    except ValidationError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_query', 'the query has invalid parameters', field_errors(error))
    before = None
    if query_args['before']:
        cursor = decode_cursor(query_args['before'])
        before = Position(cursor.created_at, cursor.notification_id)  # the cursor's id is the item's here
    limit = query_args['limit']
    found = inbox_page(db.session(), user_id, limit + 1, before, unread_only=query_args['unread'])
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        next_cursor = Cursor(page[-1].created_at, page[-1].id).encode()
    answer = {'items': page, 'next': next_cursor, 'unread': unread_count(db.session(), user_id)}
    return jsonify(InboxPageSchema().dump(answer))


@inbox_blueprint.post('/users/<user_id>/inbox/<item_id>/read')
@requires_scope(USERS_WRITE)
def read_item(user_id: str, item_id: str) -> Response:
    """Mark one item read; 404 when the user has no such item."""
    _checked_user(user_id)
    read = None
    if len(item_id) <= MAX_ITEM_ID_LENGTH and '\x00' not in item_id:
        read = mark_read(db.session(), user_id, item_id)
    if read is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'user {0} has no inbox item {1}'.format(user_id, item_id))
    return jsonify(InboxItemSchema().dump(read))


@inbox_blueprint.post('/users/<user_id>/inbox/read-all')
@requires_scope(USERS_WRITE)
def read_all(user_id: str) -> Response:
    """Mark every unread item of the user read."""
    _checked_user(user_id)
    marked = mark_all_read(db.session(), user_id)
    unread = unread_count(db.session(), user_id)
    return jsonify(ReadAllSchema().dump({'marked': marked, 'unread': unread}))
