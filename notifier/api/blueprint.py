"""The ``/api/v1`` blueprint; every route in it needs a bearer token."""

from flask import Blueprint

from notifier.api import event_batches, events, notifications
from notifier.api.auth import EVENTS_WRITE, READ, require_token, requires_scope

api_blueprint = Blueprint('api', __name__, url_prefix='/api/v1')
api_blueprint.before_request(require_token)
api_blueprint.add_url_rule('/events', view_func=requires_scope(EVENTS_WRITE)(events.post_event), methods=['POST'])
api_blueprint.add_url_rule(
    '/events/batch', view_func=requires_scope(EVENTS_WRITE)(event_batches.post_event_batch), methods=['POST'],
)
api_blueprint.add_url_rule(
    '/notifications/<notification_id>', view_func=requires_scope(READ)(notifications.get_notification), methods=['GET'],
)
api_blueprint.add_url_rule(
    '/notifications', view_func=requires_scope(READ)(notifications.list_notifications), methods=['GET'],
)
