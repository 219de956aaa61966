"""Signed one-click unsubscribe links (RFC 8058) and what following one does.

A token is ``base64url(subject, newline, category)``, a dot, and the
``base64url`` of its HMAC-SHA256 with the server secret. It does not expire (a mail read a year later must still
work) and names what it turns off, so nobody can unsubscribe anyone else.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from notifier.models.base import utcnow
from notifier.models.preference import EVERY_CHANNEL, SUBJECT_LENGTH, Preference
from notifier.notification_types import OPTIONAL_CATEGORIES

#: Binds the MAC to this use of the secret.
_PURPOSE: Final = b'notifier unsubscribe v1\x00'
_SEPARATOR: Final = '\n'
LIST_UNSUBSCRIBE_POST: Final = 'List-Unsubscribe=One-Click'


class InvalidTokenError(ValueError):
    """A token that was not signed by us, or was altered."""


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b'=').decode('ascii')


def _decode(text: str) -> bytes:
    padded = text + '=' * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded.encode('ascii'))


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE + payload, hashlib.sha256).digest()


def sign(secret: bytes, subject: str, category: str) -> str:
    """The token that unsubscribes ``subject`` from ``category``."""
    payload = '{0}{1}{2}'.format(subject, _SEPARATOR, category).encode()
    return '{0}.{1}'.format(_encode(payload), _encode(_mac(secret, payload)))


def verify(secret: bytes, token: str) -> tuple[str, str]:
    """The subject and category a token names, or :class:`InvalidTokenError`."""
    encoded_payload, _, encoded_mac = token.partition('.')
    try:
        payload = _decode(encoded_payload)
        offered = _decode(encoded_mac)
    except ValueError:  # binascii.Error and UnicodeEncodeError among them
        raise InvalidTokenError('malformed token') from None
    if not hmac.compare_digest(offered, _mac(secret, payload)):
        raise InvalidTokenError('bad signature')
    subject, _, category = payload.decode(errors='replace').partition(_SEPARATOR)
    if category not in OPTIONAL_CATEGORIES or not subject or len(subject) > SUBJECT_LENGTH:
        raise InvalidTokenError('token names nothing that can be unsubscribed')
    return subject, category


@dataclass(frozen=True)
class UnsubscribeLinks:
    """Builds the links and headers of a mail; ``base_url`` is the service's public URL."""

    secret: bytes
    base_url: str

    def url(self, subject: str, category: str) -> str:
        """The one-click unsubscribe URL of ``subject`` for ``category``."""
        return '{0}/unsubscribe/{1}'.format(self.base_url.rstrip('/'), sign(self.secret, subject, category))

    def headers(self, url: str) -> dict[str, str]:
        """The RFC 2369 / RFC 8058 headers that let a mail client unsubscribe with one click."""
        return {
            'List-Unsubscribe': '<{0}>'.format(url),
            'List-Unsubscribe-Post': LIST_UNSUBSCRIBE_POST,
        }


def unsubscribe(session: Session, subject: str, category: str) -> None:
    """Turn ``category`` off on every channel for ``subject``; doing it twice changes nothing."""
    switch = session.get(Preference, (subject, category, EVERY_CHANNEL))
    if switch is not None:
        switch.enabled = False
        switch.updated_at = utcnow()
        session.commit()
        return
    session.add(Preference(subject=subject, category=category, channel=EVERY_CHANNEL, enabled=False))
    try:
        session.commit()
    except IntegrityError:  # a second click at the same moment inserted it first
        session.rollback()
        unsubscribe(session, subject, category)
