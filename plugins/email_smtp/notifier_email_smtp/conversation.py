"""One SMTP transaction on an open ``smtplib`` connection, step by step.

``smtplib.sendmail`` cannot say whether a connection that dropped did so
before or after the body went out; these steps can. The envelope (``MAIL``,
``RCPT``, ``DATA``) goes in one write when the server offers ``PIPELINING``
(RFC 2920), one command at a time otherwise.
"""

import re
import smtplib
from typing import Final

OK: Final = 250
RECIPIENT_OK: Final = frozenset((250, 251))
START_MAIL_INPUT: Final = 354
#: The reply each envelope command expects.
EXPECTED: Final = (frozenset((OK,)), RECIPIENT_OK, frozenset((START_MAIL_INPUT,)))
#: A line of the body that starts with a dot gets another (RFC 5321, 4.5.2).
LEADING_DOT: Final = re.compile(rb'^\.', re.MULTILINE)

Reply = tuple[int, bytes]


def envelope_recipient(connection: smtplib.SMTP, recipient: str) -> str | None:
    """The address for ``RCPT TO``: as it is, or with an IDNA domain; ``None`` when it cannot be said.

    A non-ASCII address needs SMTPUTF8; without it a non-ASCII domain can still be said in IDNA,
    a non-ASCII local part cannot.
    """
    if recipient.isascii() or connection.has_extn('smtputf8'):
        return recipient
    local, _, domain = recipient.rpartition('@')
    if not local.isascii():
        return None
    try:
        return '{0}@{1}'.format(local, domain.encode('idna').decode('ascii'))
    except UnicodeError:
        return None


def envelope(connection: smtplib.SMTP, sender: str, recipient: str) -> Reply | None:
    """``MAIL``, ``RCPT``, ``DATA``; the refusal, or ``None`` once the server waits for the body."""
    options = '' if recipient.isascii() else ' SMTPUTF8'
    commands = (
        'mail FROM:{0}{1}'.format(smtplib.quoteaddr(sender), options),
        'rcpt TO:{0}'.format(smtplib.quoteaddr(recipient)),
        'data',
    )
    if connection.has_extn('pipelining'):
        replies = _pipelined(connection, commands)
    else:
        replies = _one_by_one(connection, commands)
    for reply, expected in zip(replies, EXPECTED):
        if reply[0] not in expected:
            _reset(connection, replies)
            return reply
    return None


def body(connection: smtplib.SMTP, wire: bytes) -> Reply:
    """Send the body (dot-stuffed, ended by ``.``) and read the server's answer."""
    stuffed = LEADING_DOT.sub(b'..', wire)
    ending = b'.\r\n' if stuffed.endswith(b'\r\n') else b'\r\n.\r\n'
    connection.send(b''.join((stuffed, ending)))
    return connection.getreply()


def _pipelined(connection: smtplib.SMTP, commands: tuple[str, ...]) -> list[Reply]:
    connection.send(''.join('{0}\r\n'.format(command) for command in commands).encode())
    return [connection.getreply() for _ in commands]


def _one_by_one(connection: smtplib.SMTP, commands: tuple[str, ...]) -> list[Reply]:
    replies = []
    for command, expected in zip(commands, EXPECTED):
        connection.send('{0}\r\n'.format(command).encode())
        replies.append(connection.getreply())
        if replies[-1][0] not in expected:
            break
    return replies


def _reset(connection: smtplib.SMTP, replies: list[Reply]) -> None:
    """After a refusal: end a DATA the server accepted anyway, then RSET, so the connection stays usable."""
    data_accepted = replies[-1][0] == START_MAIL_INPUT
    if len(replies) == len(EXPECTED) and data_accepted:
        connection.send(b'.\r\n')
        connection.getreply()
    connection.rset()
