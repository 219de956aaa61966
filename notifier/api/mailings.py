"""``/api/v1/mailings``: a bulk notification's progress, and pause, resume, cancel.

``/api/v1/limits``: the run-time rate limits (token buckets), changed without a restart.
"""

from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from notifier.api.auth import ADMIN, READ, require_token, requires_scope
from notifier.api.errors import ApiError, field_errors
from notifier.api.notifications import MAX_ID_LENGTH
from notifier.api.publisher import current_publisher
from notifier.extensions import db
from notifier.models import Mailing
from notifier.models.base import utcnow
from notifier.ratelimit import parse_rate
from notifier.services import mailings as mailing_service
from notifier.services.limits import all_limits, set_limit
from notifier.services.progress import Progress, progress
from notifier.services import recurring

mailings_blueprint = Blueprint('mailings', __name__, url_prefix='/api/v1')
mailings_blueprint.before_request(require_token)
LIMIT_NAME = validate.Regexp(r'^[a-z0-9_.-]{1,128}$', error='a name like generator.publish or channel.email.send')
MAX_RATE_TEXT = 32
MAX_LIMIT_NAME = 128


class RateSchema(Schema):
    """``PUT /api/v1/limits/<name>``: a rate like ``500/s``, ``30/m``, ``7200/h``."""

    rate = fields.String(required=True, validate=validate.Length(min=1, max=MAX_RATE_TEXT))


def progress_view(report: Progress) -> dict[str, Any]:
    """A mailing's progress as the API shows it."""
    return {
        'id': report.notification_id,
        'state': report.state,
        'total': report.total,
        'expanded': report.expanded,
        'queued': report.counts.get('pending', 0) + report.counts.get('sending', 0),
        'sent': report.counts.get('sent', 0),
        'failed': report.counts.get('failed', 0),
        'skipped': report.counts.get('skipped', 0),
        'retrying': report.retrying,
        'skipped_reasons': dict(report.skipped_reasons),
        'per_second': round(report.per_second, 2),
        'eta_seconds': None if report.eta_seconds is None else round(report.eta_seconds),
    }


def _mailing(notification_id: str) -> Mailing:
    mailing = None
    if len(notification_id) <= MAX_ID_LENGTH and '\x00' not in notification_id:
        mailing = db.session.get(Mailing, notification_id)
    if mailing is None:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no mailing {0}'.format(notification_id))
    return mailing


@mailings_blueprint.get('/mailings/<notification_id>')
@requires_scope(READ)
def get_mailing(notification_id: str) -> Response:
    """Total, queued, sent, skipped (with reasons), failed, retrying, rate and ETA."""
    return jsonify(progress_view(progress(db.session(), _mailing(notification_id), utcnow())))


@mailings_blueprint.post('/mailings/<notification_id>/<action>')
@requires_scope(ADMIN)
def change_mailing(notification_id: str, action: str) -> Response:
    """Pause (between pages), resume (from the checkpoint) or cancel a mailing, one-off or recurring."""
    if action not in recurring.ONE_OFF_CHANGES:
        raise ApiError(HTTPStatus.NOT_FOUND, 'not_found', 'no action {0!r}: pause, resume or cancel'.format(action))
    mailing = _mailing(notification_id)
    try:
        outbox_ids = recurring.change_mailing(db.session(), mailing, action, utcnow())
    except mailing_service.MailingStateError as error:
        raise ApiError(HTTPStatus.CONFLICT, 'wrong_state', str(error))
    if outbox_ids:
        current_publisher().publish_outbox(outbox_ids)
    return jsonify(progress_view(progress(db.session(), mailing, utcnow())))


@mailings_blueprint.get('/limits')
@requires_scope(READ)
def list_limits() -> Response:
    """Every configured rate limit; a name not listed is not limited."""
    return jsonify(items=[
        {'name': limit.name, 'per_second': limit.per_second} for limit in all_limits(db.session())
    ])


@mailings_blueprint.put('/limits/<name>')
@requires_scope(ADMIN)
def put_limit(name: str) -> Response:
    """Set a rate; every process picks it up within seconds."""
    try:
        LIMIT_NAME(name)
        loaded = RateSchema().load(request.get_json(silent=True) or {})
        per_second = parse_rate(loaded['rate'])
    except ValidationError as error:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, 'validation_failed', 'invalid limit', field_errors(error))
    except ValueError as error:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, 'validation_failed', str(error), {'rate': [str(error)]})
    set_limit(db.session(), name, per_second)
    return jsonify(name=name, per_second=per_second)


@mailings_blueprint.delete('/limits/<name>')
@requires_scope(ADMIN)
def delete_limit(name: str) -> tuple[str, int]:
    """Remove a limit: unlimited from then on."""
    if len(name) <= MAX_LIMIT_NAME and '\x00' not in name:
        set_limit(db.session(), name, None)
    return '', HTTPStatus.NO_CONTENT
