"""Email addresses as the API takes them: one rule, email-validator's, for every schema.

Syntax only (``check_deliverability=False``): no DNS lookup while answering a
request. The rule refuses what must never reach a mail header: CR, LF and
every other control character, spaces, display names (``Name <a@b.example>``),
quoted local parts, domain literals and special-use domains (``.local``,
``.test``, ``localhost``). The address is kept as it was sent, not normalised.
"""

from typing import Any, Final

from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError, fields

#: RFC 5321's limit of a path (254 characters), which email-validator enforces too.
MAX_EMAIL_LENGTH: Final = 254
INVALID: Final = 'Not a valid email address'


def check_email(address: str) -> None:
    """Raise :class:`ValidationError` with the reason unless ``address`` is a valid email address."""
    if len(address) > MAX_EMAIL_LENGTH:  # refused before any parsing: a huge value costs nothing
        raise ValidationError('{0}: longer than {1} characters.'.format(INVALID, MAX_EMAIL_LENGTH))
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError('{0}: {1}'.format(INVALID, error)) from None


def is_email(address: Any) -> bool:
    """Whether ``address`` is text that :func:`check_email` accepts."""
    if not isinstance(address, str):
        return False
    try:
        check_email(address)
    except ValidationError:
        return False
    return True


class EmailAddress(fields.String):
    """A string field holding one email address (``format: email`` in the OpenAPI document)."""

    def __init__(self, **kwargs: Any) -> None:
        """The field, validated by :func:`check_email`."""
        metadata = {'format': 'email', 'maxLength': MAX_EMAIL_LENGTH, **kwargs.pop('metadata', {})}
        super().__init__(metadata=metadata, validate=check_email, **kwargs)
