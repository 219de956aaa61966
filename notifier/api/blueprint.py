"""The ``/api/v1`` blueprint; every route in it needs a bearer token."""

from flask import Blueprint

from notifier.api import events, notifications
from notifier.api.auth import require_token

api_blueprint = Blueprint('api', __name__, url_prefix='/api/v1')
api_blueprint.before_request(require_token)
api_blueprint.add_url_rule('/events', view_func=events.post_event, methods=['POST'])
api_blueprint.add_url_rule(
    '/notifications/<notification_id>', view_func=notifications.get_notification, methods=['GET'],
)
api_blueprint.add_url_rule('/notifications', view_func=notifications.list_notifications, methods=['GET'])
