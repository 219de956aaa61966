"""A user record as the auth service sends it and as ``notifier users import`` reads it."""

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate

from notifier.schemas.addresses import EmailAddress
from notifier.users.directory import MAX_SHOW_ID_LENGTH, UserProfile, show_subscribers

MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_LOCALE_LENGTH = 16
MAX_TIME_ZONE_LENGTH = 64
MAX_PHONE_LENGTH = 32
MAX_SEGMENT_LENGTH = 64
MAX_SEGMENTS = 100
LIST_FIELDS = ('push_tokens', 'segments', 'shows')


def _optional_text(max_length: int) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=max_length))


def _listed(raw: Any) -> Any:
    """``a;b;c`` (a CSV cell) as a list; a list or nothing as it is."""
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(';') if part.strip()]
    return raw


class UserRecordSchema(Schema):
    """One user; unknown fields are ignored so the auth service may send more."""

    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=MAX_ID_LENGTH))
    email = EmailAddress(load_default=None, allow_none=True)  # the API's one rule for addresses
    name = _optional_text(MAX_NAME_LENGTH)
    locale = _optional_text(MAX_LOCALE_LENGTH)
    time_zone = _optional_text(MAX_TIME_ZONE_LENGTH)
    phone = _optional_text(MAX_PHONE_LENGTH)
    push_tokens = fields.List(fields.String(), load_default=list)
    registered_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    segments = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_SEGMENT_LENGTH)),
        load_default=list,
        validate=validate.Length(max=MAX_SEGMENTS),
    )
    #: The shows the user subscribes to: stored as their segments ``show:<id>``.
    shows = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_SHOW_ID_LENGTH)),
        load_default=list,
        validate=validate.Length(max=MAX_SEGMENTS),
    )

    @pre_load
    def _blank_is_missing(self, raw: Any, **kwargs: Any) -> Any:
        """A CSV gives empty strings for empty cells, and ``a;b`` for lists."""
        if not isinstance(raw, dict):
            return raw
        cleaned = {key: cell for key, cell in raw.items() if cell not in ('', None)}
        for list_field in LIST_FIELDS:
            listed = cleaned.get(list_field)
            if listed is not None:
                cleaned[list_field] = _listed(listed)
        return cleaned

    @post_load
    def _shows_as_segments(self, record: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        shows = record.pop('shows')
        record['segments'] = [*record['segments'], *(show_subscribers(show) for show in shows)]
        return record


def load_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A validated record; raises :class:`marshmallow.ValidationError`."""
    if not isinstance(raw, Mapping):
        raise ValidationError('a user must be a JSON object')
    loaded: dict[str, Any] = UserRecordSchema().load(dict(raw))
    return loaded


def profile_from_record(record: Mapping[str, Any]) -> UserProfile:
    """The port's view of a validated record."""
    return UserProfile(
        id=record['id'],
        email=record['email'],
        name=record['name'],
        locale=record['locale'],
        time_zone=record['time_zone'],
        phone=record['phone'],
        push_tokens=tuple(record['push_tokens']),
        registered_at=record['registered_at'],
    )
