"""Building the MIME mail of a rendered message.

No text of a message can add a header: the subject is folded onto one line
(a rendered template or an event's field may hold CR or LF), and a header
whose name or value would end its line is refused (:class:`HeaderInjectionError`).
"""

import base64
import re
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Final

from notifier.channels.base import OutgoingMessage


#: Headers whose value is one or more ``<URL>``: a mail client reads them verbatim (RFC 2369).
URL_HEADERS: Final = frozenset(('list-unsubscribe', 'list-unsubscribe-post'))
#: RFC 5322's hard limit of a line, CRLF excluded.
MAX_LINE_LENGTH: Final = 998
#: RFC 5322's recommended limit, which folded headers keep.
MAX_FOLDED_LENGTH: Final = 78
#: Every character ``str.splitlines`` breaks at (CR and LF among them), and NUL.
LINE_BREAKS: Final = frozenset('\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')
#: RFC 5322 2.2: a header name is printable US-ASCII other than the colon.
HEADER_NAME: Final = re.compile('[!-9;-~]+')


class HeaderInjectionError(ValueError):
    """A header name or value that would end its line and so start another header."""


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


def one_line(text: str) -> str:
    """``text`` as one header line: each line break (CR, LF, CRLF, U+2028...) becomes a space."""
    return ' '.join(text.splitlines())


def checked_header(name: str, header_value: str) -> str:
    """The value of a header whose name and value stay on their line, or :class:`HeaderInjectionError`."""
    if not HEADER_NAME.fullmatch(name) or not LINE_BREAKS.isdisjoint(header_value):
        raise HeaderInjectionError('refused header {0!r}: its name or value would start another header'.format(name))
    return header_value


@dataclass(frozen=True)
class RawMail:
    """A mail as the wire carries it (CRLF line ends), and its envelope."""

    data: bytes
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
        _header('From', _address_header(from_address)),
        'To: {0}\r\n'.format(message.recipient),  # checked by is_valid_address; UTF-8 as RFC 6532 has it
        _header('Subject', one_line(message.subject)),
        'Date: {0}\r\n'.format(formatdate(localtime=False)),
        'Message-ID: {0}\r\n'.format(message_id),
    ]
    lines.extend(
        _header(header_name, checked_header(header_name, header_value))
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


def _part(subtype: str, content: str) -> bytes:
    """A UTF-8 text part: its two headers, a blank line, the content in base64 (76-character lines)."""
    encoded = base64.encodebytes(content.encode()).replace(b'\n', b'\r\n')
    head = 'Content-Type: text/{0}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.format(subtype)
    return head.encode() + encoded


def _header(name: str, header_value: str) -> str:
    """One header, folded: as it is when short ASCII, encoded words when not ASCII; URL headers verbatim."""
    if _verbatim(name, header_value):
        return '{0}: {1}\r\n'.format(name, header_value)
    if header_value.isascii() and len(name) + len(': ') + len(header_value) <= MAX_FOLDED_LENGTH:
        return '{0}: {1}\r\n'.format(name, header_value)
    charset = 'us-ascii' if header_value.isascii() else 'utf-8'
    folded = Header(header_value, charset, header_name=name).encode(linesep='\r\n')
    return '{0}: {1}\r\n'.format(name, folded)


def _address_header(address: str) -> str:
    """A ``Name <address>`` with a non-ASCII name as an encoded word."""
    if address.isascii():
        return address
    display_name, bare = parseaddr(address)
    return formataddr((display_name, bare), charset='utf-8')


def _verbatim(name: str, header_value: str) -> bool:
    """A URL header (RFC 2369) of plain ASCII that fits one line stays unencoded: clients read it verbatim.

    A signed unsubscribe URL has no space to fold at; encoded words there are not decoded by mail
    clients, and the one-click button would not work.
    """
    if name.lower() not in URL_HEADERS or not header_value.isascii():
        return False
    fits = len(name) + len(': ') + len(header_value) <= MAX_LINE_LENGTH
    return fits and not set('\r\n') & set(header_value)
