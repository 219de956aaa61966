"""The push channel's settings schema (``NOTIFIER_PUSH_*``)."""

from typing import Final
from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates

DEFAULT_URL: Final = 'file://instance/push'
SCHEMES: Final = ('file', 'http', 'https')
FAIL_MODES: Final = ('', 'temporary', 'permanent')
DEFAULT_TIMEOUT_SECONDS: Final = 10.0
MIN_TIMEOUT_SECONDS: Final = 0.1
MAX_TIMEOUT_SECONDS: Final = 120.0
MAX_RATE: Final = 10000.0


class PushSettingsSchema(Schema):
    """Validates the raw environment strings of the push channel."""

    url = fields.String(load_default=DEFAULT_URL)
    timeout = fields.Float(
        load_default=DEFAULT_TIMEOUT_SECONDS,
        validate=validate.Range(min=MIN_TIMEOUT_SECONDS, max=MAX_TIMEOUT_SECONDS),
    )
    #: Messages per second at most, per consumer process; 0: no limit.
    rate = fields.Float(load_default=0, validate=validate.Range(min=0, max=MAX_RATE))
    fail = fields.String(load_default='', validate=validate.OneOf(FAIL_MODES))
    #: With ``fail``: fail this many sends, then send; 0: fail every send.
    fail_count = fields.Integer(load_default=0, validate=validate.Range(min=0))

    @validates('url')
    def _known_scheme(self, url: str, **kwargs: object) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SCHEMES:
            raise ValidationError('must start with file://, http:// or https://')
        if parts.scheme != 'file' and not parts.hostname:
            raise ValidationError('an http(s) URL needs a host')
