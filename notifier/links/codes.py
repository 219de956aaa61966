"""Short codes, and which targets may be shortened (no open redirect).

A code is ``secrets.token_urlsafe(12)``: 12 random bytes from the operating
system's CSPRNG, written as 16 characters of the URL-safe base64 alphabet
(``A-Z a-z 0-9 - _``), so 2**96 ≈ 7.9e28 possible codes. With a billion live
links, one guess hits a link with probability 1e9 / 7.9e28 ≈ 1.3e-20; an
attacker making ten thousand guesses a second for a year (3.2e11 guesses)
finds one with probability ≈ 4e-9. Codes carry no meaning (not a counter, not
a hash of the target), so knowing one code says nothing about another.
"""

import re
import secrets
from typing import Final
from urllib.parse import SplitResult, urlsplit

from notifier.models.short_link import MAX_TARGET_LENGTH

CODE_BYTES: Final = 12
CODE_LENGTH: Final = 16
CODE_PATTERN: Final = re.compile(r'[A-Za-z0-9_-]{{{0}}}'.format(CODE_LENGTH))
SCHEMES: Final = ('http', 'https')
#: Control characters, spaces and backslashes: browsers read ``\\`` as ``/`` in http URLs.
_FORBIDDEN_CHARACTERS: Final = re.compile(r'[\x00-\x20\x7f\\]')


class LinkRefusedError(ValueError):
    """The target may not be shortened; the message says why."""


def new_code() -> str:
    """A fresh unguessable code."""
    return secrets.token_urlsafe(CODE_BYTES)


def is_code(candidate: str) -> bool:
    """Whether ``candidate`` has the shape of a code (anything else cannot name a link)."""
    return bool(CODE_PATTERN.fullmatch(candidate))


def parse_hosts(hosts: str) -> tuple[str, ...]:
    """``cinema.example,.cinema.example`` as its entries, lower-cased."""
    entries = (entry.strip().lower().rstrip('.') for entry in hosts.split(','))
    return tuple(entry for entry in entries if entry)


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``cinema.example`` allows that host only; ``.cinema.example`` allows it and every subdomain."""
    host = host.lower().rstrip('.')
    for entry in allowed:
        if entry.startswith('.'):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def _checked_text(url: str) -> None:
    if len(url) > MAX_TARGET_LENGTH:
        raise LinkRefusedError('the link is {0} characters long; at most {1} can be shortened'.format(
            len(url), MAX_TARGET_LENGTH,
        ))
    if _FORBIDDEN_CHARACTERS.search(url):
        raise LinkRefusedError('the link {0!r} contains spaces, control characters or a backslash'.format(url))


def _parts(url: str) -> tuple[SplitResult, str]:
    try:
        parts = urlsplit(url)
        return parts, parts.hostname or ''
    except ValueError as error:
        raise LinkRefusedError('the link {0!r} is not a URL: {1}'.format(url, error)) from None


def allowed_target(url: str, allowed_hosts: tuple[str, ...]) -> str:
    """``url`` if it is an http(s) link to an allowed host, else :class:`LinkRefusedError`."""
    _checked_text(url)
    parts, host = _parts(url)
    if parts.scheme.lower() not in SCHEMES:
        shown = '{0}:'.format(parts.scheme) if parts.scheme else url
        raise LinkRefusedError('only http and https links can be shortened, not {0!r}'.format(shown))
    if parts.username is not None or parts.password is not None:
        raise LinkRefusedError('the link {0!r} has a user name in it'.format(url))
    if not host_allowed(host, allowed_hosts):
        raise LinkRefusedError('the host {0!r} is not in NOTIFIER_LINK_HOSTS ({1})'.format(
            host, ','.join(allowed_hosts),
        ))
    return url
