"""Building the MIME mail of a rendered message.

No text of a message can add a header: the subject is folded onto one line
(a rendered template or an event's field may hold CR or LF), and a header
whose name or value would end its line is refused (:class:`HeaderInjectionError`).
"""

import re
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, parseaddr
from typing import Any, Final

from notifier.channels.base import OutgoingMessage


#: Headers whose value is one or more ``<URL>``: a mail client reads them verbatim (RFC 2369).
URL_HEADERS: Final = frozenset(('list-unsubscribe', 'list-unsubscribe-post'))
#: RFC 5322's hard limit of a line, CRLF excluded.
MAX_LINE_LENGTH: Final = 998
#: Every character ``str.splitlines`` breaks at (CR and LF among them), and NUL.
LINE_BREAKS: Final = frozenset('\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029')
#: RFC 5322 2.2: a header name is printable US-ASCII other than the colon.
HEADER_NAME: Final = re.compile('[!-9;-~]+')


class HeaderInjectionError(ValueError):
    """A header name or value that would end its line and so start another header."""


class MailPolicy(EmailPolicy):
    """The default policy, except that URL headers are never RFC 2047-encoded.

    A signed unsubscribe URL has no space to fold at, so the default policy
    would turn a long one into ``=?utf-8?q?=3Chttps...?=`` words, which mail
    clients do not decode in ``List-Unsubscribe``: the one-click button
    would not work. Such a header stays on one line (up to 998 characters).
    """

    def fold(self, name: str, header_value: Any) -> str:
        """One unencoded line for a URL header of plain ASCII; the default folding otherwise."""
        if _verbatim(name, str(header_value)):
            return '{0}: {1}{2}'.format(name, header_value, self.linesep)
        return str(super().fold(name, header_value))

    def fold_binary(self, name: str, header_value: Any) -> bytes:
        """The same, as bytes (what ``as_bytes`` and ``smtplib`` use)."""
        if _verbatim(name, str(header_value)):
            return self.fold(name, header_value).encode('ascii')
        return bytes(super().fold_binary(name, header_value))


def _verbatim(name: str, header_value: str) -> bool:
    if name.lower() not in URL_HEADERS or not header_value.isascii():
        return False
    fits = len(name) + len(': ') + len(header_value) <= MAX_LINE_LENGTH
    return fits and not set('\r\n') & set(header_value)


MAIL_POLICY: Final = MailPolicy()


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


def build_mail(message: OutgoingMessage, from_address: str) -> EmailMessage:
    """The mail: plain text with an HTML alternative and our headers (:class:`HeaderInjectionError`)."""
    mail = EmailMessage(policy=MAIL_POLICY)
    mail['From'] = from_address
    mail['To'] = message.recipient
    mail['Subject'] = one_line(message.subject)
    mail['Date'] = formatdate(localtime=False)
    mail['Message-ID'] = message_id_for(message.delivery_id, from_address)
    for header_name, header_value in message.headers.items():
        mail[header_name] = checked_header(header_name, header_value)
    mail.set_content(message.text or ' ')
    if message.html:
        mail.add_alternative(message.html, subtype='html')
    return mail
