"""``GET /s/<code>``: a short link's redirect, and ``GET /api/v1/notifications/<id>/clicks``: its counts.

The redirect is public (recipients follow it from a mail); each ``GET``
counts one click (a ``HEAD``, which link scanners send, redirects without
counting). An unknown, malformed or expired code answers a 404 page.
"""

from collections.abc import Mapping
from http import HTTPStatus
from types import MappingProxyType

from flask import Blueprint, Response, jsonify, redirect, render_template_string, request
from werkzeug.wrappers import Response as WerkzeugResponse

from notifier.api.auth import READ, require_token, requires_scope
from notifier.api.errors import ApiError
from notifier.api.notifications import MAX_ID_LENGTH
from notifier.extensions import db
from notifier.links.codes import is_code
from notifier.links.store import clicks_by_target, record_click, resolve
from notifier.models import Notification
from notifier.models.base import utcnow
from notifier.schemas.links import NotificationClicksSchema

short_links_blueprint = Blueprint('short_links', __name__)
link_clicks_blueprint = Blueprint('link_clicks', __name__, url_prefix='/api/v1')
link_clicks_blueprint.before_request(require_token)

#: The code is in the URL: keep redirects out of caches and keep it out of the target's Referer.
REDIRECT_HEADERS: Mapping[str, str] = MappingProxyType({
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'X-Robots-Tag': 'noindex',
})
NOT_FOUND_PAGE = """<!DOCTYPE html>
<html lang="ru">
<head><meta charset="utf-8"><title>Ссылка не найдена</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
  <h1>Ссылка не найдена</h1>
  <p>Такой ссылки нет или срок её действия истёк.</p>
</body>
</html>
"""


def _not_found() -> Response:
    response = Response(render_template_string(NOT_FOUND_PAGE), status=HTTPStatus.NOT_FOUND)
    response.headers.update(REDIRECT_HEADERS)
    return response


@short_links_blueprint.get('/s/<code>')
def follow_short_link(code: str) -> WerkzeugResponse:
    """Redirect to the link's target and count the click."""
    now = utcnow()
    link = resolve(db.session(), code, now) if is_code(code) else None
    if link is None:
        return _not_found()
    target = link.target
    if request.method == 'GET':
        record_click(db.session(), link, now)
    response = redirect(target, code=HTTPStatus.FOUND)
    response.headers.update(REDIRECT_HEADERS)
    return response


@link_clicks_blueprint.get('/notifications/<notification_id>/clicks')
@requires_scope(READ)
def notification_clicks(notification_id: str) -> Response:
    """The clicks on a notification's short links, per target."""
    notification = None
    if len(notification_id) <= MAX_ID_LENGTH and '\x00' not in notification_id:
        notification = db.session.get(Notification, notification_id)
    if notification is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no notification {0}'.format(notification_id))
    targets = clicks_by_target(db.session(), notification.id)
    return jsonify(NotificationClicksSchema().dump({
        'notification_id': notification.id,
        'clicks': sum(target.clicks for target in targets),
        'targets': targets,
    }))
