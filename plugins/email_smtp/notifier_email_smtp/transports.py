"""Where mails go: a folder of ``.eml`` files, or an SMTP server.

The SMTP transport speaks each transaction itself (``MAIL``, ``RCPT``,
``DATA``, the body) on one persistent connection, with the three commands in
one write where the server offers ``PIPELINING`` (RFC 2920). It tells a
failure *before* the body was sent, which is safe to try again at once on a
new connection, from one *after* it: the server may have taken the mail, so
it is never re-sent at once (the retry tiers may send it again later, with
the same ``Message-ID``; ``docs/guarantees.md`` counts it in the window).
"""

import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from notifier.channels.base import MayBegin, SendResult, send_while_allowed
from notifier_email_smtp import conversation
from notifier_email_smtp.mime import RawMail, readdressed
from notifier_email_smtp.pipelined import HeldMail, PipelinedRun

SMTP_PORT = 25
SMTPS_PORT = 465
#: SMTP reply codes 4xx are transient (RFC 5321, 4.2.1); 5xx are permanent.
TRANSIENT_FIRST_DIGIT = 4
REPLY_CODE_CLASS = 100
TRUE_WORDS = frozenset(('1', 'true', 'yes', 'on'))


#: Mails with their deterministic ids (``mail_key``), as ``deliver_many`` takes them.
KeyedMails = Sequence[tuple[RawMail, str]]


class NotSentError(Exception):
    """The connection failed before the body was sent: nothing reached the server, try a new connection."""


class Transport(Protocol):
    """Delivers a built mail."""

    def deliver(self, mail: RawMail, mail_key: str) -> SendResult:
        """Hand the mail over; ``mail_key`` is its deterministic id."""

    def deliver_many(self, mails: KeyedMails, may_begin: MayBegin) -> list[SendResult]:
        """Hand mails over in order, each begun only if ``may_begin()`` says so; the answers of those begun."""

    def close(self) -> None:
        """Release the connection."""


class FileTransport:
    """One ``<delivery id>.eml`` file per mail, the embedded default.

    The file name is the delivery id, so writing the same delivery twice
    leaves one file: the folder behaves like an idempotent provider.
    """

    def __init__(self, folder: Path) -> None:
        """Create the folder if needed."""
        self._folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def deliver(self, mail: RawMail, mail_key: str) -> SendResult:
        """Write the mail atomically (temp file, then rename)."""
        target = self._folder / '{0}.eml'.format(mail_key)
        try:
            descriptor, temp_name = tempfile.mkstemp(dir=self._folder, suffix='.tmp')
            with os.fdopen(descriptor, 'wb') as temp_file:
                temp_file.write(mail.wire)
            os.replace(temp_name, target)
        except OSError as error:
            return SendResult.temporary('cannot write {0}: {1}'.format(target, error))
        return SendResult.sent(mail.message_id)

    def deliver_many(self, mails: KeyedMails, may_begin: MayBegin) -> list[SendResult]:
        """One file after another."""
        return send_while_allowed(mails, may_begin, self._deliver_keyed)

    def close(self) -> None:
        """Nothing to release."""

    def _deliver_keyed(self, keyed: tuple[RawMail, str]) -> SendResult:
        return self.deliver(*keyed)


class SmtpTransport:
    """A persistent SMTP connection, reused across mails and reopened on failure."""

    def __init__(self, url: SplitResult, timeout: float) -> None:
        """Read host, port, credentials and TLS options from the URL."""
        self._implicit_tls = url.scheme == 'smtps'
        self._host = url.hostname or 'localhost'
        default_port = SMTPS_PORT if self._implicit_tls else SMTP_PORT
        self._port = url.port or default_port
        self._username = unquote(url.username) if url.username else None
        self._password = unquote(url.password) if url.password else ''
        options = parse_qs(url.query)
        starttls = options.get('starttls', ['0'])[0]
        self._starttls = starttls.lower() in TRUE_WORDS
        self._timeout = timeout
        self._connection: smtplib.SMTP | None = None

    def deliver(self, mail: RawMail, mail_key: str) -> SendResult:
        """Send; a connection that dropped before the body was sent is reopened once."""
        try:
            return self._send_once(mail)
        except NotSentError:
            self.close()
        try:
            return self._send_once(mail)
        except NotSentError:
            self.close()
        return SendResult.temporary('SMTP server {0}:{1} disconnected twice'.format(self._host, self._port))

    def deliver_many(self, mails: KeyedMails, may_begin: MayBegin) -> list[SendResult]:
        """Send in order; where the server offers ``PIPELINING``, each body in one write with the next envelope.

        RFC 2920 lets a mail's content open the next group of commands, so with ``PIPELINING`` a mail
        costs one round trip (its body's reply and the next envelope's replies come back together)
        instead of two. Every failure keeps :meth:`deliver`'s meaning: a body without an answer is
        uncertain and never re-sent at once; an envelope that got no answer sent nothing, and that
        mail goes again on a new connection.
        """
        run = PipelinedRun()
        for index, (mail, mail_key) in enumerate(mails):
            if not may_begin():
                break
            self._begin(run, index, mail, mail_key)
        self._end_held(run)
        return run.answered()

    def close(self) -> None:
        """Say QUIT if we can, and forget the connection."""
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            self._connection.close()
        self._connection = None

    def _begin(self, run: PipelinedRun, index: int, mail: RawMail, mail_key: str) -> None:
        """Begin ``mail``: its envelope with the held mail's body where the server pipelines, else alone."""
        connection = self._connection
        if connection is None or not connection.has_extn('pipelining'):
            self._end_held(run)
            run.answers[index] = self.deliver(mail, mail_key)
            return
        recipient = conversation.envelope_recipient(connection, mail.recipient)
        if recipient is None:
            run.answers[index] = self._send_once(mail)  # refused without a word on the wire
            return
        self._overlapped(connection, run, HeldMail(index, readdressed(mail, recipient), mail_key, recipient))

    def _overlapped(self, connection: smtplib.SMTP, run: PipelinedRun, mail: HeldMail) -> None:
        """The held mail's body and ``mail``'s envelope in one write; ``mail`` is held if the server waits for it."""
        held = run.take_held()
        try:
            connection.send(b''.join((
                conversation.body_bytes(held.mail.wire) if held else b'',
                conversation.envelope_bytes(mail.mail.envelope_from, mail.recipient),
            )))
            if held is not None:
                run.answers[held.index] = _body_answer(connection.getreply(), held.mail)
                held = None
            refused = conversation.envelope_answered(connection)
        except (OSError, smtplib.SMTPException) as error:
            if held is not None:
                run.answers[held.index] = self._uncertain(error)  # its body went out: no answer, no resend now
            self.close()
            run.answers[mail.index] = self.deliver(mail.mail, mail.mail_key)  # its envelope led to no body
            return
        if refused is None:
            run.held = mail
        else:
            run.answers[mail.index] = _answer(*refused)

    def _end_held(self, run: PipelinedRun) -> None:
        """Send the held mail's body alone, on the connection that accepted its envelope."""
        held = run.take_held()
        if held is not None:
            run.answers[held.index] = self._body(self._connect(), held.mail)

    def _send_once(self, mail: RawMail) -> SendResult:
        """One transaction; :class:`NotSentError` when the connection failed before the body went out."""
        try:
            connection = self._connect()
            recipient = conversation.envelope_recipient(connection, mail.recipient)
            refused = None if recipient is None else conversation.envelope(connection, mail.envelope_from, recipient)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as error:
            raise NotSentError(str(error)) from None
        except (OSError, smtplib.SMTPException) as error:
            return self._failure(error)
        if recipient is None:
            return SendResult.permanent(
                'SMTP server {0}:{1} does not take internationalized addresses (SMTPUTF8) like {2!r}'.format(
                    self._host, self._port, mail.recipient,
                ),
            )
        if refused is not None:
            return _answer(*refused)
        return self._body(connection, readdressed(mail, recipient))

    def _body(self, connection: smtplib.SMTP, mail: RawMail) -> SendResult:
        """Send the body; no answer after it is uncertain, and never re-sent at once."""
        try:
            reply = conversation.body(connection, mail.wire)
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            return self._uncertain(error)
        return _body_answer(reply, mail)

    def _uncertain(self, error: OSError | smtplib.SMTPException) -> SendResult:
        return SendResult.temporary('uncertain: no answer from {0}:{1} after the mail was sent: {2}'.format(
            self._host, self._port, error or type(error).__name__,
        ))

    def _failure(self, error: OSError | smtplib.SMTPException) -> SendResult:
        if isinstance(error, smtplib.SMTPRecipientsRefused):
            return _first_refusal(error.recipients)
        self.close()
        if isinstance(error, smtplib.SMTPResponseException):
            return _answer(error.smtp_code, error.smtp_error)
        return SendResult.temporary('cannot reach SMTP server {0}:{1}: {2}'.format(
            self._host, self._port, error or type(error).__name__,
        ))

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        connection: smtplib.SMTP
        if self._implicit_tls:
            connection = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context(),
            )
        else:
            connection = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            if self._starttls:
                connection.starttls(context=ssl.create_default_context())
        connection.ehlo_or_helo_if_needed()
        if self._username:
            connection.login(self._username, self._password)
        self._connection = connection
        return connection


def _answer(code: int, reason: bytes | str) -> SendResult:
    text = reason.decode(errors='replace') if isinstance(reason, bytes) else reason
    detail = 'SMTP {0} {1}'.format(code, text)
    if code // REPLY_CODE_CLASS == TRANSIENT_FIRST_DIGIT:
        return SendResult.temporary(detail)
    return SendResult.permanent(detail)


def _body_answer(reply: conversation.Reply, mail: RawMail) -> SendResult:
    code, reason = reply
    if code != conversation.OK:
        return _answer(code, reason)
    return SendResult.sent(mail.message_id)


def _first_refusal(refused: Mapping[str, tuple[int, bytes]]) -> SendResult:
    code, reason = next(iter(refused.values()))
    return _answer(code, reason)


def open_transport(url: str, timeout: float) -> Transport:
    """The transport for a ``file://``, ``smtp://`` or ``smtps://`` URL."""
    parsed = urlsplit(url)
    if parsed.scheme == 'file':
        return FileTransport(Path(unquote(parsed.netloc + parsed.path)))
    return SmtpTransport(parsed, timeout)
