"""Schedules as the API takes them: timing, what to send, to whom, and the misfire policy."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from notifier.models.schedule import MISFIRE_POLICIES, MisfirePolicy
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.cron import is_valid_cron, is_valid_timezone
from notifier.schemas.events import LOCALE, TEMPLATE_NAME

MAX_LIST_AUDIENCE = 1000
NAME = validate.Regexp(r'^[A-Za-z0-9_.-]{1,128}$', error='use letters, digits, and . _ -')


class AudienceSchema(Schema):
    """Who gets the notification of each fire."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(['user', 'list', 'segment']))
    email = fields.Email(load_default=None)
    emails = fields.List(fields.Email(), load_default=list, validate=validate.Length(max=MAX_LIST_AUDIENCE))

    @validates_schema
    def _complete(self, audience: dict[str, Any], **kwargs: Any) -> None:
        kind = audience['kind']
        if kind == 'segment':
            raise ValidationError(
                'segment audiences need the user directory, which this version does not have yet; '
                'use kind user or list',
                field_name='kind',
            )
        if kind == 'user' and not audience.get('email'):
            raise ValidationError('required for kind user', field_name='email')
        if kind == 'list' and not audience.get('emails'):
            raise ValidationError('give at least one address for kind list', field_name='emails')


class ScheduleSchema(Schema):
    """``POST /api/v1/schedules`` (and ``PATCH`` with any subset of the fields)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NAME)
    cron = fields.String(load_default=None)
    interval_seconds = fields.Integer(load_default=None, validate=validate.Range(min=1))
    timezone = fields.String(load_default='UTC')
    notification_type = fields.String(
        data_key='type', required=True, validate=validate.OneOf(sorted(NOTIFICATION_TYPES)),
    )
    template = fields.String(load_default=None, validate=TEMPLATE_NAME)
    locale = fields.String(load_default=None, validate=LOCALE)
    channels = fields.List(
        fields.String(), load_default=lambda: ['email'], validate=validate.Length(min=1),
    )
    audience = fields.Nested(AudienceSchema, required=True)
    schedule_fields = fields.Dict(data_key='fields', keys=fields.String(), load_default=dict)
    misfire_policy = fields.String(
        load_default=MisfirePolicy.fire_once, validate=validate.OneOf(MISFIRE_POLICIES),
    )
    max_lateness_seconds = fields.Integer(load_default=None, validate=validate.Range(min=1))
    start_at = fields.AwareDateTime(load_default=None, default_timezone=None)
    end_at = fields.AwareDateTime(load_default=None, default_timezone=None)
    enabled = fields.Boolean(load_default=True)

    @validates('cron')
    def _cron(self, cron: str | None, **kwargs: Any) -> None:
        if cron is not None and not is_valid_cron(cron):
            raise ValidationError('not a cron expression (five fields, like "0 9 * * *")')

    @validates('timezone')
    def _timezone(self, timezone: str, **kwargs: Any) -> None:
        if not is_valid_timezone(timezone):
            raise ValidationError('not an IANA time zone (like Europe/Moscow)')


def check_timing(schedule: dict[str, Any]) -> None:
    """A complete schedule has exactly one of cron and interval, and ends after it starts."""
    if bool(schedule.get('cron')) == bool(schedule.get('interval_seconds')):
        raise ValidationError({'cron': ['give either cron or interval_seconds, not both and not neither']})
    start_at, end_at = schedule.get('start_at'), schedule.get('end_at')
    if start_at and end_at and end_at <= start_at:
        raise ValidationError({'end_at': ['must be after start_at']})
