"""Reading notifications and their deliveries."""

from http import HTTPStatus

from flask import Response, jsonify, request
from sqlalchemy import select

from notifier.api.errors import ApiError
from notifier.api.views import notification_view
from notifier.extensions import db
from notifier.models import Notification

DEFAULT_PAGE = 50
MAX_PAGE = 500


def get_notification(notification_id: str) -> Response:
    """One notification and its deliveries."""
    notification = db.session.get(Notification, notification_id)
    if notification is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no notification {0}'.format(notification_id))
    return jsonify(notification_view(notification))


def list_notifications() -> Response:
    """The newest notifications first; ``?limit=`` (at most 500) and ``?before=<created_at>`` page."""
    limit = request.args.get('limit', DEFAULT_PAGE, type=int)
    if limit is None or not 1 <= limit <= MAX_PAGE:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'bad_limit', 'limit must be 1 to {0}'.format(MAX_PAGE))
    newest_first = (Notification.created_at.desc(), Notification.id.desc())
    query = select(Notification).order_by(*newest_first).limit(limit)
    status = request.args.get('status')
    if status:
        query = query.where(Notification.status == status)
    found = db.session.scalars(query).all()
    return jsonify(items=[notification_view(notification) for notification in found])
