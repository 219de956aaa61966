"""Building the MIME mail of a rendered message."""

from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, parseaddr
from typing import Any, Final

from notifier.channels.base import OutgoingMessage


#: Headers whose value is one or more ``<URL>``: a mail client reads them verbatim (RFC 2369).
URL_HEADERS: Final = frozenset(('list-unsubscribe', 'list-unsubscribe-post'))
#: RFC 5322's hard limit of a line, CRLF excluded.
MAX_LINE_LENGTH: Final = 998


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
    """A cheap syntactic check; the SMTP server has the last word."""
    _, parsed = parseaddr(address)
    local, at_sign, domain = parsed.rpartition('@')
    return bool(at_sign and local and '.' in domain and parsed == address.strip())


def build_mail(message: OutgoingMessage, from_address: str) -> EmailMessage:
    """The mail: plain text with an HTML alternative and our headers."""
    mail = EmailMessage(policy=MAIL_POLICY)
    mail['From'] = from_address
    mail['To'] = message.recipient
    mail['Subject'] = message.subject
    mail['Date'] = formatdate(localtime=False)
    mail['Message-ID'] = message_id_for(message.delivery_id, from_address)
    for header_name, header_value in message.headers.items():
        mail[header_name] = header_value
    mail.set_content(message.text or ' ')
    if message.html:
        mail.add_alternative(message.html, subtype='html')
    return mail
