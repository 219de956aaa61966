"""Schedules as the API takes them: timing, what to send, to whom, and the misfire policy."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from notifier.models.schedule import MISFIRE_POLICIES, MisfirePolicy
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.schemas.addresses import EmailAddress
from notifier.schemas.events import LOCALE, NO_NUL, TEMPLATE_NAME, storable_moment
from notifier.schemas.timing import (
    MAX_CRON_LENGTH,
    MAX_PERIOD_SECONDS,
    MAX_TIMEZONE_LENGTH,
    cron_expression,
    iana_timezone,
)

MAX_LIST_AUDIENCE = 1000
MAX_SEGMENT_LENGTH = 64
MAX_USER_ID_LENGTH = 64
SEGMENT_NAME = validate.Length(min=1, max=MAX_SEGMENT_LENGTH)
NAME = validate.Regexp(r'^[A-Za-z0-9_.-]{1,128}$', error='use letters, digits, and . _ -')


class AudienceSchema(Schema):
    """Who gets the notification of each fire."""

    class Meta:
        unknown = RAISE

    #: ``user`` and ``list`` make one notification per address a fire; ``segment`` and ``users``
    #: make one mailing a fire (expanded from the user directory, with opt-outs and progress).
    kind = fields.String(required=True, validate=validate.OneOf(['user', 'list', 'segment', 'users']))
    email = EmailAddress(load_default=None)
    emails = fields.List(EmailAddress(), load_default=list, validate=validate.Length(max=MAX_LIST_AUDIENCE))
    segment = fields.String(load_default='all', validate=(SEGMENT_NAME, NO_NUL))
    user_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_USER_ID_LENGTH)),
        load_default=list,
        validate=validate.Length(max=MAX_LIST_AUDIENCE),
    )

    @validates_schema
    def _kind_given(self, audience: dict[str, Any], **kwargs: Any) -> None:
        if 'kind' not in audience:  # a PATCH loads partially: a changed audience is still a whole one
            raise ValidationError('Missing data for required field.', field_name='kind')

    @validates_schema
    def _complete(self, audience: dict[str, Any], **kwargs: Any) -> None:
        kind = audience.get('kind')
        if kind == 'users' and not audience.get('user_ids'):
            raise ValidationError('give at least one user id for kind users', field_name='user_ids')
        if kind == 'user' and not audience.get('email'):
            raise ValidationError('required for kind user', field_name='email')
        if kind == 'list' and not audience.get('emails'):
            raise ValidationError('give at least one address for kind list', field_name='emails')


class ScheduleSchema(Schema):
    """``POST /api/v1/schedules`` (and ``PATCH`` with any subset of the fields)."""

    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=NAME)
    cron = fields.String(load_default=None, validate=(validate.Length(max=MAX_CRON_LENGTH), NO_NUL))
    interval_seconds = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_PERIOD_SECONDS))
    timezone = fields.String(load_default='UTC', validate=(validate.Length(max=MAX_TIMEZONE_LENGTH), NO_NUL))
    notification_type = fields.String(
        data_key='type', required=True, validate=validate.OneOf(sorted(NOTIFICATION_TYPES)),
    )
    template = fields.String(load_default=None, validate=TEMPLATE_NAME)
    locale = fields.String(load_default=None, validate=LOCALE)
    channels = fields.List(
        fields.String(), load_default=lambda: ['email'], validate=validate.Length(min=1),
    )
    audience = fields.Nested(AudienceSchema, required=True)
    schedule_fields = fields.Dict(data_key='fields', keys=fields.String(validate=NO_NUL), load_default=dict)
    misfire_policy = fields.String(
        load_default=MisfirePolicy.fire_once, validate=validate.OneOf(MISFIRE_POLICIES),
    )
    max_lateness_seconds = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_PERIOD_SECONDS))
    start_at = fields.AwareDateTime(load_default=None, validate=storable_moment)
    end_at = fields.AwareDateTime(load_default=None, validate=storable_moment)
    enabled = fields.Boolean(load_default=True)

    @validates('cron')
    def _cron(self, cron: str | None, **kwargs: Any) -> None:
        cron_expression(cron)

    @validates('timezone')
    def _timezone(self, timezone: str, **kwargs: Any) -> None:
        iana_timezone(timezone)


def check_timing(schedule: dict[str, Any]) -> None:
    """A complete schedule has exactly one of cron and interval, and ends after it starts."""
    if bool(schedule.get('cron')) == bool(schedule.get('interval_seconds')):
        raise ValidationError({'cron': ['give either cron or interval_seconds, not both and not neither']})
    start_at, end_at = schedule.get('start_at'), schedule.get('end_at')
    if start_at and end_at and end_at <= start_at:
        raise ValidationError({'end_at': ['must be after start_at']})


class OccurrenceViewSchema(Schema):
    """One fire time of a schedule."""

    fire_at = fields.DateTime(required=True)
    state = fields.String(required=True, metadata={'description': 'fired, skipped or failed'})
    reason = fields.String(required=True, allow_none=True)
    notifications = fields.Integer(required=True)


class ScheduleViewSchema(Schema):
    """A schedule as the API shows it."""

    id = fields.String(required=True)
    name = fields.String(required=True)
    cron = fields.String(required=True, allow_none=True)
    interval_seconds = fields.Integer(required=True, allow_none=True)
    timezone = fields.String(required=True)
    notification_type = fields.String(data_key='type', required=True)
    template = fields.String(required=True, allow_none=True)
    locale = fields.String(required=True, allow_none=True)
    channels = fields.List(fields.String(), required=True)
    audience = fields.Dict(required=True)
    schedule_fields = fields.Dict(data_key='fields', required=True)
    misfire_policy = fields.String(required=True)
    max_lateness_seconds = fields.Integer(required=True, allow_none=True)
    start_at = fields.DateTime(required=True)
    end_at = fields.DateTime(required=True, allow_none=True)
    enabled = fields.Boolean(required=True)
    next_fire_at = fields.DateTime(required=True, allow_none=True)
    failure = fields.String(
        required=True,
        allow_none=True,
        metadata={'description': 'why the last fire failed (its fire times were set aside); null once a fire succeeds'},
    )
    failed_at = fields.DateTime(required=True, allow_none=True)
    recent_occurrences = fields.List(fields.Nested(OccurrenceViewSchema), required=True)


class ScheduleListSchema(Schema):
    """Every schedule."""

    schedules = fields.List(fields.Nested(ScheduleViewSchema), data_key='items', required=True)


class CancelledSchema(Schema):
    """The answer to a cancel."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={'description': 'cancelled'})
