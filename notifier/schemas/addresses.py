"""Email addresses as the API takes them: one rule, email-validator's, for every schema.

Syntax only (``check_deliverability=False``): no DNS lookup while answering a
request. The rule refuses what must never reach a mail header: CR, LF and
every other control character, spaces, display names (``Name <a@b.example>``),
quoted local parts, domain literals and special-use domains (``.local``,
``.test``, ``localhost``). The address is kept as it was sent, not normalised.

The common address (an ASCII dot-atom before the ``@``) whose domain
email-validator accepted once is accepted without running it again: the domain
is what costs (its Unicode and IDNA checks), and a service's mail goes to few
domains. Anything else, and every refusal with its reason, is email-validator's.
"""

import functools
import re
from typing import Any, Final

from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError, fields

#: RFC 5321's limit of a path (254 characters), which email-validator enforces too.
MAX_EMAIL_LENGTH: Final = 254
INVALID: Final = 'Not a valid email address'
#: RFC 5321's limit of a local part, which email-validator enforces too.
MAX_LOCAL_LENGTH: Final = 64
#: A local part email-validator always accepts: dot-separated runs of ASCII letters, digits, ``_``, ``+``, ``-``.
_PLAIN_LOCAL: Final = re.compile(r'[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*\Z')
#: Domains remembered as accepted (a bounded cache: a flood of new domains only evicts).
_KNOWN_DOMAINS: Final = 4096


def check_email(address: str) -> None:
    """Raise :class:`ValidationError` with the reason unless ``address`` is a valid email address."""
    if len(address) > MAX_EMAIL_LENGTH:  # refused before any parsing: a huge value costs nothing
        raise ValidationError('{0}: longer than {1} characters.'.format(INVALID, MAX_EMAIL_LENGTH))
    local_part, at_sign, domain = address.rpartition('@')
    if at_sign and len(local_part) <= MAX_LOCAL_LENGTH and _PLAIN_LOCAL.match(local_part):
        if _accepted_domain(domain):
            return
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationError('{0}: {1}'.format(INVALID, error)) from None


@functools.lru_cache(maxsize=_KNOWN_DOMAINS)
def _accepted_domain(domain: str) -> bool:
    """Whether email-validator accepts an address at ``domain`` with the plainest local part."""
    try:
        validate_email('a@{0}'.format(domain), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


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
