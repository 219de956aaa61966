"""Building the MIME mail of a rendered message, as the bytes the wire carries.

Headers are written by :mod:`notifier_email_smtp.headers`, which refuses any
that would start another header (:class:`HeaderInjectionError`).
"""

import base64
from dataclasses import dataclass, replace
from email.utils import formatdate, parseaddr

from notifier.channels.base import OutgoingMessage
from notifier_email_smtp.headers import address_header, checked_header, header_line, one_line


def message_id_for(delivery_id: str, from_address: str) -> str:
    """A ``Message-ID`` derived from the delivery id: a retry carries the same one."""
    _, sender = parseaddr(from_address)
    domain = sender.rpartition('@')[2] or 'notifier.local'
    return '<{0}@{1}>'.format(delivery_id, domain)


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
    message_id = message_id_for(message.delivery_id, from_address)
    lines = [
        header_line('From', address_header(from_address)),
        'To: {0}\r\n'.format(message.recipient),  # checked by is_valid_address; UTF-8 as RFC 6532 has it
        header_line('Subject', one_line(message.subject)),
        'Date: {0}\r\n'.format(formatdate(localtime=False)),
        'Message-ID: {0}\r\n'.format(message_id),
    ]
    lines.extend(
        header_line(header_name, checked_header(header_name, header_value))
        for header_name, header_value in message.headers.items()
    )
    lines.append('MIME-Version: 1.0\r\n')
    head = ''.join(lines).encode()
    text = _part('plain', message.text or ' ')
    if not message.html:
        return RawMail(head + text, parseaddr(from_address)[1], message.recipient, message_id)
    boundary = '=_notifier_{0}'.format(message.delivery_id.replace('-', ''))
    body = b''.join((
        'Content-Type: multipart/alternative; boundary="{0}"\r\n\r\n'.format(boundary).encode(),
        '--{0}\r\n'.format(boundary).encode(), text,
        '\r\n--{0}\r\n'.format(boundary).encode(), _part('html', message.html),
        '\r\n--{0}--\r\n'.format(boundary).encode(),
    ))
    return RawMail(head + body, parseaddr(from_address)[1], message.recipient, message_id)


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
