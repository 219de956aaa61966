"""The email channel's settings schema (``NOTIFIER_EMAIL_*``)."""

from urllib.parse import urlsplit

from marshmallow import Schema, ValidationError, fields, validate, validates

from notifier_email_smtp.headers import LINE_BREAKS

DEFAULT_URL = 'file://instance/outbox'
DEFAULT_FROM = 'Online Cinema <noreply@cinema.example>'
SCHEMES = ('file', 'smtp', 'smtps')
DEFAULT_TIMEOUT_SECONDS = 10.0
MIN_TIMEOUT_SECONDS = 0.1
MAX_TIMEOUT_SECONDS = 600.0


class EmailSettingsSchema(Schema):
    """Validates the raw environment strings of the email channel."""

    url = fields.String(load_default=DEFAULT_URL)
    from_address = fields.String(
        data_key='from',
        load_default=DEFAULT_FROM,
        validate=(validate.Length(min=3), validate.ContainsNoneOf(sorted(LINE_BREAKS), error='must be one line')),
    )
    timeout = fields.Float(
        load_default=DEFAULT_TIMEOUT_SECONDS,
        validate=validate.Range(min=MIN_TIMEOUT_SECONDS, max=MAX_TIMEOUT_SECONDS),
    )

    @validates('url')
    def _known_scheme(self, url: str, **kwargs: object) -> None:
        if urlsplit(url).scheme not in SCHEMES:
            raise ValidationError('must start with file://, smtp:// or smtps://')
