"""Building the MIME mail of a rendered message, as the bytes the wire carries.

Headers are written by :mod:`notifier_email_smtp.headers`, which refuses any
that would start another header (:class:`HeaderInjectionError`).
"""

import base64
import time
from dataclasses import dataclass, replace
from email.utils import formatdate, parseaddr
from functools import lru_cache
from typing import Final

from notifier.channels.base import OutgoingMessage
from notifier_email_smtp.headers import address_header, checked_header, header_line, one_line

#: ``From`` addresses whose parsed parts are kept (one per configured channel, in practice).
SENDERS_KEPT: Final = 8


def message_id_for(delivery_id: str, from_address: str) -> str:
    """A ``Message-ID`` derived from the delivery id: a retry carries the same one."""
    return '<{0}@{1}>'.format(delivery_id, _sender(from_address).domain)


@dataclass(frozen=True)
class _Sender:
    """What every mail of one ``From`` address shares, worked out once."""

    from_line: str
    envelope_from: str
    domain: str


@lru_cache(maxsize=SENDERS_KEPT)
def _sender(from_address: str) -> _Sender:
    _, bare = parseaddr(from_address)
    domain = bare.rpartition('@')[2] or 'notifier.local'
    return _Sender(header_line('From', address_header(from_address)), bare, domain)


@lru_cache(maxsize=1)
def _date_line(second: int) -> str:
    """The ``Date`` header of this second (one formatting a second, not one a mail)."""
    return 'Date: {0}\r\n'.format(formatdate(second, localtime=False))


def is_valid_address(address: str) -> bool:
    """A cheap check of one bare address (no space, no control character); the SMTP server has the last word."""
    if not address.isprintable() or len(address.split()) != 1:
        return False
    _, parsed = parseaddr(address)
    local, at_sign, domain = parsed.rpartition('@')
    return bool(at_sign and local and '.' in domain and parsed == address)


@dataclass(frozen=True)
class RawMail:
    """A mail as the wire carries it (CRLF line ends), and its envelope."""

    wire: bytes
    envelope_from: str
    recipient: str
    message_id: str


def build_mail(message: OutgoingMessage, from_address: str) -> RawMail:
    """The mail: plain text with an HTML alternative and our headers (:class:`HeaderInjectionError`).

    Written as bytes directly (``email.message`` took over a millisecond a mail): RFC 5322 headers,
    non-ASCII text as RFC 2047 encoded words, both bodies as UTF-8 in base64, lines within 78
    characters but a URL header, which stays one unencoded line (see :func:`_verbatim`).
    """
    sender = _sender(from_address)
    message_id = message_id_for(message.delivery_id, from_address)
    head = _head(message, sender, message_id)
    text = _part('plain', message.text or ' ')
    if not message.html:
        return RawMail(head + text, sender.envelope_from, message.recipient, message_id)
    boundary = '=_notifier_{0}'.format(message.delivery_id.replace('-', ''))
    body = b''.join((
        'Content-Type: multipart/alternative; boundary="{0}"\r\n\r\n'.format(boundary).encode(),
        '--{0}\r\n'.format(boundary).encode(), text,
        '\r\n--{0}\r\n'.format(boundary).encode(), _part('html', message.html),
        '\r\n--{0}--\r\n'.format(boundary).encode(),
    ))
    return RawMail(head + body, sender.envelope_from, message.recipient, message_id)


def _head(message: OutgoingMessage, sender: _Sender, message_id: str) -> bytes:
    lines = [
        sender.from_line,
        'To: {0}\r\n'.format(message.recipient),  # checked by is_valid_address; UTF-8 as RFC 6532 has it
        header_line('Subject', one_line(message.subject)),
        _date_line(int(time.time())),
        'Message-ID: {0}\r\n'.format(message_id),
    ]
    lines.extend(
        header_line(header_name, checked_header(header_name, header_value))
        for header_name, header_value in message.headers.items()
    )
    lines.append('MIME-Version: 1.0\r\n')
    return ''.join(lines).encode()


def readdressed(mail: RawMail, recipient: str) -> RawMail:
    """The mail with its ``To`` header naming ``recipient`` instead (the address with an IDNA domain), if it differs.

    A server without SMTPUTF8 takes no 8-bit header either (RFC 6532): the header says what the envelope says.
    """
    if recipient == mail.recipient:
        return mail
    line = '\r\nTo: {0}\r\n'  # the line after From, as build_mail writes it
    written, wanted = (line.format(address).encode() for address in (mail.recipient, recipient))
    return replace(mail, wire=mail.wire.replace(written, wanted, 1))


def _part(subtype: str, text: str) -> bytes:
    """A UTF-8 text part: its two headers, a blank line, the content in base64 (76-character lines)."""
    encoded = base64.encodebytes(text.encode()).replace(b'\n', b'\r\n')
    head = 'Content-Type: text/{0}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.format(subtype)
    return head.encode() + encoded
