"""One SMTP transaction on an open ``smtplib`` connection, step by step.

``smtplib.sendmail`` cannot say whether a connection that dropped did so
before or after the body went out; these steps can. The envelope (``MAIL``,
``RCPT``, ``DATA``) goes in one write when the server offers ``PIPELINING``
(RFC 2920), one command at a time otherwise; the pieces (:func:`envelope_bytes`,
:func:`body_bytes`) let a transport put one mail's body and the next one's
envelope in one write.
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
    if connection.has_extn('pipelining'):
        connection.send(envelope_bytes(sender, recipient))
        return envelope_answered(connection)
    return _refusal(connection, _one_by_one(connection, _envelope_commands(sender, recipient)))


def envelope_bytes(sender: str, recipient: str) -> bytes:
    """The three envelope commands as one write (the server offers ``PIPELINING``)."""
    return ''.join('{0}\r\n'.format(command) for command in _envelope_commands(sender, recipient)).encode()


def envelope_answered(connection: smtplib.SMTP) -> Reply | None:
    """Read the replies of a pipelined envelope: the refusal (the connection reset), or ``None``."""
    return _refusal(connection, [connection.getreply() for _ in EXPECTED])


def body(connection: smtplib.SMTP, wire: bytes) -> Reply:
    """Send the body (dot-stuffed, ended by ``.``) and read the server's answer."""
    connection.send(body_bytes(wire))
    return connection.getreply()


def body_bytes(wire: bytes) -> bytes:
    """A mail as the ``DATA`` phase carries it: dot-stuffed, ended by a line with one ``.``."""
    stuffed = LEADING_DOT.sub(b'..', wire)
    ending = b'.\r\n' if stuffed.endswith(b'\r\n') else b'\r\n.\r\n'
    return b''.join((stuffed, ending))


def _envelope_commands(sender: str, recipient: str) -> tuple[str, ...]:
    options = '' if recipient.isascii() else ' SMTPUTF8'
    return (
        'mail FROM:{0}{1}'.format(smtplib.quoteaddr(sender), options),
        'rcpt TO:{0}'.format(smtplib.quoteaddr(recipient)),
        'data',
    )


def _refusal(connection: smtplib.SMTP, replies: list[Reply]) -> Reply | None:
    for reply, expected in zip(replies, EXPECTED):
        if reply[0] not in expected:
            _reset(connection, replies)
            return reply
    return None


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
