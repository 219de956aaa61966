"""``/healthz`` (the process is alive) and ``/readyz`` (database and broker reachable)."""

from http import HTTPStatus

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from notifier.api.errors import error_response
from notifier.api.publisher import current_publisher
from notifier.extensions import db

health_blueprint = Blueprint('health', __name__)
UNAVAILABLE = HTTPStatus.SERVICE_UNAVAILABLE


@health_blueprint.get('/healthz')
def healthz() -> Response:
    """Alive."""
    return jsonify(status='ok')


@health_blueprint.get('/readyz')
def readyz() -> Response:
    """Ready when the database answers and the broker accepts a connection."""
    try:
        db.session.execute(text('SELECT 1'))
    except Exception as error:  # noqa: B902 - any database failure means not ready
        return error_response(UNAVAILABLE, 'database_unavailable', type(error).__name__)
    try:
        current_publisher().ping()
    except Exception as error:  # noqa: B902 - any broker failure means not ready
        return error_response(UNAVAILABLE, 'broker_unavailable', str(error))
    return jsonify(status='ready')
