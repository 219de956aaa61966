"""The event the API accepts: the brief's notification shape, spelled either way.

The brief writes ``immidiate`` and ``costom_template``; the API accepts both
those and the correct ``immediate`` and ``custom_template``.
"""

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
from notifier.notification_types import NOTIFICATION_TYPES

URGENCY_ALIASES: Mapping[str, str] = MappingProxyType({'immidiate': 'immediate'})
TEMPLATE_NAME = validate.Regexp(r'^[a-z0-9_]{1,128}$', error='use lower-case letters, digits and _')
URGENCIES = ('immediate', 'usual')
MAX_ID_LENGTH = 64
MAX_FIELD_NAME = 64
MAX_CHANNEL_NAME = 32
LOCALE = validate.Regexp(r'^[a-z]{2}(-[A-Z]{2})?$', error='a locale like ru or en-US')


class MetaSchema(Schema):
    """Routing information of an event."""

    class Meta:
        unknown = RAISE

    urgency = fields.String(load_default='immediate', validate=validate.OneOf(URGENCIES))
    scale = fields.String(load_default='individual', validate=validate.OneOf(['individual', 'bulk']))
    email = fields.Email(load_default=None)
    user_id = fields.String(load_default=None, validate=validate.Length(min=1, max=MAX_ID_LENGTH))
    periodic = fields.Boolean(load_default=False)
    scheduled_at = fields.AwareDateTime(load_default=None, default_timezone=None)
    locale = fields.String(load_default=None, validate=LOCALE)

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


class EventSchema(Schema):
    """``POST /api/v1/events``."""

    class Meta:
        unknown = RAISE

    meta = fields.Nested(MetaSchema, load_default=dict)
    notification_type = fields.String(
        data_key='type', required=True, validate=validate.OneOf(sorted(NOTIFICATION_TYPES)),
    )
    custom_template = fields.String(load_default=None, validate=TEMPLATE_NAME)
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
    def _recipient(self, event: dict[str, Any], **kwargs: Any) -> None:
        meta = event.get('meta') or {}
        if meta.get('scale') == 'bulk':
            raise ValidationError(
                'bulk notifications need an audience, which this version cannot expand yet; '
                'send one individual event per recipient',
                field_name='meta.scale',
            )
        fallback_email = event.get('event_fields', {}).get('email')
        if meta.get('email'):
            return
        if not fallback_email:
            raise ValidationError(
                'an individual notification needs the recipient email (meta.email)',
                field_name='meta.email',
            )
        if not isinstance(fallback_email, str) or not _is_email(fallback_email):
            raise ValidationError('not a valid email address', field_name='fields.email')


def _is_email(address: str) -> bool:
    try:
        validate.Email()(address)
    except ValidationError:
        return False
    return True
