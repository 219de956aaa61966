"""Building the MIME mail of a rendered message."""

from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from notifier.channels.base import OutgoingMessage


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
    mail = EmailMessage()
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
