"""The token a user's browser opens ``/ws`` with: issued by the cinema's site, checked here.

``base64url(user id) "." expiry "." base64url(HMAC-SHA256(secret, base64url(user id) "." expiry))``,
base64url without padding, the expiry in Unix seconds. The site and the
notifier share ``NOTIFIER_WEBSOCKET_SECRET``; no state is kept on either side
(docs/websocket.md has the contract and a reference implementation).
"""

import base64
import binascii
import hashlib
import hmac
from typing import Final

SEPARATOR: Final = '.'
#: A token names a user id of at most this many characters (the users table's id column).
MAX_USER_ID_LENGTH: Final = 64
#: Longer than any token the site can issue (a 64-character id, an expiry and a MAC).
MAX_TOKEN_LENGTH: Final = 512
#: A token valid for longer than this is refused: tokens are meant for one connect, minutes at most.
MAX_LIFETIME_SECONDS: Final = 86400  # a day
_PARTS: Final = 3


class BadTokenError(ValueError):
    """The token is malformed, forged, expired, or too long-lived."""


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def _decode(text: str) -> bytes:
    padded = text + '=' * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode('ascii'))
    except (binascii.Error, UnicodeError):
        raise BadTokenError('not base64url') from None


def _mac(secret: str, signed_part: str) -> str:
    digest = hmac.new(secret.encode(), signed_part.encode('ascii'), hashlib.sha256).digest()
    return _encode(digest)


def issue_token(secret: str, user_id: str, expires_at: int) -> str:
    """A token for ``user_id`` valid until ``expires_at`` (Unix seconds): what the site does."""
    signed_part = SEPARATOR.join((_encode(user_id.encode()), str(expires_at)))
    return SEPARATOR.join((signed_part, _mac(secret, signed_part)))


def verify_token(secret: str, token: str, now: float) -> str:
    """The user id of a valid token, or :class:`BadTokenError` with why it is not."""
    if not secret:
        raise BadTokenError('websocket tokens are not configured (NOTIFIER_WEBSOCKET_SECRET)')
    encoded_user, expiry = _signed_parts(secret, token)
    problem = _expiry_problem(expiry, now)
    if problem:
        raise BadTokenError(problem)
    return _user_id(encoded_user)


def _signed_parts(secret: str, token: str) -> tuple[str, str]:
    """The encoded user id and the expiry of a token whose signature is right."""
    well_formed = len(token) <= MAX_TOKEN_LENGTH and token.isascii()
    parts = token.split(SEPARATOR) if well_formed else []
    if len(parts) != _PARTS:
        raise BadTokenError('malformed token')
    encoded_user, expiry, mac = parts
    if not hmac.compare_digest(mac, _mac(secret, SEPARATOR.join((encoded_user, expiry)))):
        raise BadTokenError('bad signature')
    return encoded_user, expiry


def _expiry_problem(expiry: str, now: float) -> str:
    if not expiry.isdigit():
        return 'malformed expiry'
    if int(expiry) <= now:
        return 'expired token'
    if int(expiry) > now + MAX_LIFETIME_SECONDS:
        return 'token valid for longer than {0}s'.format(MAX_LIFETIME_SECONDS)
    return ''


def _user_id(encoded_user: str) -> str:
    try:
        user_id = _decode(encoded_user).decode()
    except UnicodeDecodeError:
        user_id = ''
    if not 0 < len(user_id) <= MAX_USER_ID_LENGTH or '\x00' in user_id:
        raise BadTokenError('bad user id')
    return user_id
