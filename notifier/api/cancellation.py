"""``DELETE /api/v1/notifications/<id>`` and ``POST …/cancel``: cancel before sending begins."""

from http import HTTPStatus

from flask import Blueprint, Response, jsonify

from notifier.api.auth import EVENTS_WRITE, require_token, requires_scope
from notifier.api.errors import ApiError
from notifier.api.notifications import MAX_ID_LENGTH
from notifier.extensions import db
from notifier.services.cancel import NotCancellableError, cancel_notification

cancellation_blueprint = Blueprint('cancellation', __name__, url_prefix='/api/v1/notifications')
cancellation_blueprint.before_request(require_token)


@cancellation_blueprint.delete('/<notification_id>')
@cancellation_blueprint.post('/<notification_id>/cancel')
@requires_scope(EVENTS_WRITE)
def cancel(notification_id: str) -> Response:
    """Cancel; a 409 once the notification went to the generator."""
    if len(notification_id) > MAX_ID_LENGTH or '\x00' in notification_id:  # ids are UUIDs
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no notification {0}'.format(notification_id))
    try:
        notification = cancel_notification(db.session(), notification_id)
    except NotCancellableError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'not_cancellable', str(error))
    if notification is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no notification {0}'.format(notification_id))
    return jsonify(id=notification.id, status=notification.status)
