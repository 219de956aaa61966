"""The event the API accepts: the brief's notification shape, spelled either way.

The brief writes ``immidiate`` and ``costom_template``; the API accepts both
those and the correct ``immediate`` and ``custom_template``.
"""

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from notifier.constants import MAX_FIELD_LENGTH, MAX_FIELDS
from notifier.implied_audiences import NoImpliedAudienceError, implied_audience
from notifier.notification_types import NOTIFICATION_TYPES
from notifier.schemas.addresses import EmailAddress, is_email
from notifier.schemas.timing import (
    MAX_CRON_LENGTH,
    MAX_PERIOD_SECONDS,
    MAX_TIMEZONE_LENGTH,
    cron_expression,
    iana_timezone,
)

URGENCY_ALIASES: Mapping[str, str] = MappingProxyType({'immidiate': 'immediate'})
TEMPLATE_NAME = validate.Regexp(r'^[a-z0-9_]{1,128}$', error='use lower-case letters, digits and _')
URGENCIES = ('immediate', 'usual')
MAX_ID_LENGTH = 64
MAX_FIELD_NAME = 64
MAX_CHANNEL_NAME = 32
#: The fields of ``meta`` that give a periodic event's schedule.
PERIODIC_TIMING = ('cron', 'interval_seconds', 'timezone')
LOCALE = validate.Regexp(r'^[a-z]{2}(-[A-Z]{2})?$', error='a locale like ru or en-US')
MAX_SEGMENT_LENGTH = 64
#: A listed audience travels in one request; a larger audience is a segment.
MAX_LISTED_RECIPIENTS = 10000
#: PostgreSQL text cannot hold NUL characters; refuse them before they reach the database.
NO_NUL = validate.ContainsNoneOf('\x00', error='must not contain NUL characters')
USER_ID_RULES = (validate.Length(min=1, max=MAX_ID_LENGTH), NO_NUL)
#: The range of ``scheduled_at`` the database stores on every backend.
EARLIEST = dt.datetime.fromtimestamp(0, dt.timezone.utc)
LATEST = dt.datetime(dt.MAXYEAR, 1, 1, tzinfo=dt.timezone.utc)


def _about(description: str) -> dict[str, str]:
    """The OpenAPI description of a field."""
    return {'description': description}


def _meta_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """A loaded event's ``meta`` (empty while the event failed to load)."""
    return event.get('meta') or {}


def storable_moment(moment: dt.datetime) -> None:
    try:
        in_utc = moment.astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValidationError('out of range')
    if not EARLIEST <= in_utc < LATEST:
        raise ValidationError('must be between 1970 and 9999 (UTC)')


class BulkAudienceSchema(Schema):
    """Who a bulk notification goes to: one of a segment, a list of user ids, a list of addresses."""

    class Meta:
        unknown = RAISE

    segment = fields.String(validate=(validate.Length(min=1, max=MAX_SEGMENT_LENGTH), NO_NUL))
    user_ids = fields.List(
        fields.String(validate=USER_ID_RULES), validate=validate.Length(min=1, max=MAX_LISTED_RECIPIENTS),
    )
    emails = fields.List(EmailAddress(), validate=validate.Length(min=1, max=MAX_LISTED_RECIPIENTS))

    @validates_schema
    def _exactly_one(self, audience: dict[str, Any], **kwargs: Any) -> None:
        if len(audience) != 1:
            raise ValidationError('give exactly one of segment, user_ids, emails')


class EventMetaSchema(Schema):
    """Routing information of an event."""

    class Meta:
        unknown = RAISE

    urgency = fields.String(load_default='immediate', validate=validate.OneOf(URGENCIES))
    scale = fields.String(load_default='individual', validate=validate.OneOf(['individual', 'bulk']))
    email = EmailAddress(load_default=None)
    user_id = fields.String(load_default=None, validate=USER_ID_RULES)
    periodic = fields.Boolean(load_default=False)
    #: A periodic event's schedule, as ``POST /api/v1/schedules`` takes it: cron in a zone, or an interval.
    cron = fields.String(
        load_default=None,
        validate=(validate.Length(max=MAX_CRON_LENGTH), NO_NUL, cron_expression),
        metadata=_about('periodic only: when it repeats, like "0 9 * * *" (in meta.timezone)'),
    )
    interval_seconds = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_PERIOD_SECONDS),
        metadata=_about('periodic only: repeat every so many seconds (instead of meta.cron)'),
    )
    timezone = fields.String(
        load_default=None,
        validate=(validate.Length(max=MAX_TIMEZONE_LENGTH), NO_NUL, iana_timezone),
        metadata=_about('periodic only: the IANA zone of meta.cron (default UTC)'),
    )
    scheduled_at = fields.AwareDateTime(load_default=None, validate=storable_moment)
    locale = fields.String(load_default=None, validate=LOCALE)
    audience = fields.Nested(BulkAudienceSchema, load_default=None)

    @pre_load
    def _brief_spelling(self, raw: Any, **kwargs: Any) -> Any:
        urgency = raw.get('urgency') if isinstance(raw, dict) else None
        if isinstance(urgency, str) and urgency in URGENCY_ALIASES:
            return {**raw, 'urgency': URGENCY_ALIASES[urgency]}
        return raw


def _bounded_fields(event_fields: Mapping[str, Any]) -> None:
    if len(event_fields) > MAX_FIELDS:
        raise ValidationError('at most {0} fields'.format(MAX_FIELDS))
    for field_name, field_value in event_fields.items():
        if isinstance(field_value, str) and len(field_value) > MAX_FIELD_LENGTH:
            raise ValidationError('{0}: at most {1} characters'.format(field_name, MAX_FIELD_LENGTH))


def _default_meta() -> dict[str, Any]:
    """An absent ``meta`` is an empty one: every routing field takes its default."""
    loaded: dict[str, Any] = EventMetaSchema().load({})
    return loaded


class EventSchema(Schema):
    """``POST /api/v1/events``."""

    class Meta:
        unknown = RAISE

    meta = fields.Nested(EventMetaSchema, load_default=_default_meta)
    notification_type = fields.String(
        data_key='type', required=True, validate=validate.OneOf(sorted(NOTIFICATION_TYPES)),
    )
    custom_template = fields.String(load_default=None, validate=TEMPLATE_NAME)
    content_id = fields.String(
        load_default=None,
        validate=(validate.Length(min=1, max=MAX_ID_LENGTH), NO_NUL),
        metadata=_about('the film, series or episode the notification is about'),
    )
    channels = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_CHANNEL_NAME)),
        load_default=lambda: ['email'],
        validate=validate.Length(min=1, max=10),
    )
    event_fields = fields.Dict(
        data_key='fields',
        keys=fields.String(validate=validate.Length(max=MAX_FIELD_NAME)),
        load_default=dict,
        validate=_bounded_fields,
    )

    @pre_load
    def _brief_spelling(self, raw: Any, **kwargs: Any) -> Any:
        if isinstance(raw, dict) and 'costom_template' in raw and 'custom_template' not in raw:
            renamed = dict(raw)
            renamed['custom_template'] = renamed.pop('costom_template')
            return renamed
        return raw

    @validates_schema
    def _audience(self, event: dict[str, Any], **kwargs: Any) -> None:
        meta = _meta_of(event)
        bulk = meta.get('scale') == 'bulk'
        if bulk and not meta.get('audience'):
            try:
                implied_audience(event['notification_type'], event.get('event_fields', {}), event.get('content_id'))
            except NoImpliedAudienceError as error:
                raise ValidationError(str(error), field_name='meta.audience')
        if not bulk and meta.get('audience'):
            raise ValidationError(
                'only bulk notifications (meta.scale "bulk") take an audience', field_name='meta.audience',
            )

    @validates_schema
    def _periodic(self, event: dict[str, Any], **kwargs: Any) -> None:
        meta = _meta_of(event)
        timing = [name for name in PERIODIC_TIMING if meta.get(name) is not None]
        if not meta.get('periodic'):
            if timing:
                raise ValidationError(
                    'only periodic notifications (meta.periodic true) take {0}'.format(
                        ', '.join('meta.{0}'.format(name) for name in timing),
                    ),
                    field_name='meta.{0}'.format(timing[0]),
                )
            return
        repeats = [name for name in timing if name != 'timezone']
        if len(repeats) != 1:
            raise ValidationError(
                'a periodic notification needs its schedule: meta.cron (like "0 9 * * *", in meta.timezone, '
                'UTC by default) or meta.interval_seconds, not both',
                field_name='meta.cron',
            )

    @validates_schema
    def _recipient(self, event: dict[str, Any], **kwargs: Any) -> None:
        meta = _meta_of(event)
        if meta.get('scale') == 'bulk':
            return  # its audience names the recipients
        fallback_email = event.get('event_fields', {}).get('email')
        if meta.get('email') or meta.get('user_id'):
            return  # by user id, the user directory gives the address
        if not fallback_email:
            raise ValidationError(
                'an individual notification needs its recipient: meta.email or meta.user_id',
                field_name='meta.email',
            )
        if not is_email(fallback_email):
            raise ValidationError('not a valid email address', field_name='fields.email')

    @validates_schema
    def _fallback_user_id(self, event: dict[str, Any], **kwargs: Any) -> None:
        """``fields.user_id`` stands for ``meta.user_id`` when that is missing: the same limits apply."""
        user_id = event.get('event_fields', {}).get('user_id')
        if user_id is None or _meta_of(event).get('user_id'):
            return
        as_text = str(user_id)
        if len(as_text) > MAX_ID_LENGTH or '\x00' in as_text:
            raise ValidationError(
                'at most {0} characters, no NUL'.format(MAX_ID_LENGTH), field_name='fields.user_id',
            )
