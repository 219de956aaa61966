"""Reading notifications and their deliveries."""

from collections.abc import Sequence
from http import HTTPStatus

from flask import Response, jsonify, request
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from notifier.api.errors import ApiError, field_errors
from notifier.api.pagination import cursor_after, decode_cursor, older_than
from notifier.api.views import notification_page, notification_view
from notifier.extensions import db
from notifier.models import Notification
from notifier.schemas.notifications import NotificationQuerySchema
from notifier.services.settlement import SETTLEABLE, settle_notifications

#: Notification ids are UUIDs; anything longer (or with NUL) cannot name one.
MAX_ID_LENGTH = 36


def _settle(notifications: Sequence[Notification]) -> None:
    """Those whose deliveries are all final take (or keep) their final status now."""
    settleable = [found.id for found in notifications if found.status in SETTLEABLE]
    if settleable and settle_notifications(db.session(), settleable):
        db.session.commit()


def get_notification(notification_id: str) -> Response:
    """One notification and its deliveries."""
    notification = None
    if len(notification_id) <= MAX_ID_LENGTH and '\x00' not in notification_id:
        notification = db.session.get(Notification, notification_id)
    if notification is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no notification {0}'.format(notification_id))
    _settle([notification])
    return jsonify(notification_view(notification))


def list_notifications() -> Response:
    """The newest notifications first, a page of ``?limit=`` at a time; ``?before=`` is the next cursor."""
    try:
        query_args = NotificationQuerySchema().load(request.args)
    except ValidationError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_query', 'the query has invalid parameters', field_errors(error))
    limit = query_args['limit']
    newest_first = (Notification.created_at.desc(), Notification.id.desc())
    query = select(Notification).options(selectinload(Notification.deliveries)).order_by(*newest_first)
    if query_args['status']:
        query = query.where(Notification.status == query_args['status'])
    if query_args['content_id']:
        query = query.where(Notification.content_id == query_args['content_id'])
    if query_args['before']:
        query = older_than(query, decode_cursor(query_args['before']))
    found = db.session.scalars(query.limit(limit + 1)).all()
    page = found[:limit]
    _settle(page)
    next_cursor = None
    if len(found) > limit:
        next_cursor = cursor_after(page[-1]).encode()
    return jsonify(notification_page(page, next_cursor))
