"""``GET/PUT /api/v1/users/<id>/preferences``: a recipient's choices, validated whole."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from notifier.notification_types import OPTIONAL_CATEGORIES
from notifier.preferences.quiet import CLOCK_TIME, is_time_zone

CHANNEL_NAME = validate.Regexp(r'^[a-z0-9_]{1,32}$', error='a channel name: lower-case letters, digits and _')
CATEGORY_NAME = validate.OneOf(
    OPTIONAL_CATEGORIES,
    error='one of {0} (transactional notifications cannot be turned off)'.format(', '.join(OPTIONAL_CATEGORIES)),
)
MAX_CHANNELS = 20
MAX_TIME_ZONE_LENGTH = 64


def _time_zone(name: str) -> None:
    if len(name) > MAX_TIME_ZONE_LENGTH or not is_time_zone(name):
        raise ValidationError('an IANA time zone like Europe/Moscow')


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class QuietHoursSchema(_Strict):
    """A local time window; ``22:00``-``08:00`` spans midnight."""

    start = fields.String(required=True, validate=validate.Regexp(CLOCK_TIME, error='a time like 22:00'))
    end = fields.String(required=True, validate=validate.Regexp(CLOCK_TIME, error='a time like 08:00'))


class CategoryPreferenceSchema(_Strict):
    """A category on every channel (``enabled``) and per channel (``channels``)."""

    enabled = fields.Boolean(load_default=True)
    channels = fields.Dict(
        keys=fields.String(validate=CHANNEL_NAME),
        values=fields.Boolean(),
        load_default=dict,
        validate=validate.Length(max=MAX_CHANNELS),
    )


class PreferencesSchema(_Strict):
    """The whole preferences document; ``PUT`` replaces it, missing parts take their defaults."""

    opted_out = fields.Boolean(load_default=False)
    time_zone = fields.String(load_default=None, allow_none=True, validate=_time_zone)
    quiet_hours = fields.Nested(QuietHoursSchema, load_default=None, allow_none=True)
    categories = fields.Dict(
        keys=fields.String(validate=CATEGORY_NAME),
        values=fields.Nested(CategoryPreferenceSchema),
        load_default=dict,
    )


class PreferencesResponseSchema(Schema):
    """What ``GET`` answers."""

    user_id = fields.String()
    opted_out = fields.Boolean()
    time_zone = fields.String(allow_none=True)
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True)
    categories = fields.Dict(keys=fields.String(), values=fields.Nested(CategoryPreferenceSchema))


def load_preferences(raw: Any) -> dict[str, Any]:
    """A validated document; raises :class:`marshmallow.ValidationError` with the field errors."""
    loaded: dict[str, Any] = PreferencesSchema().load(raw)
    return loaded
