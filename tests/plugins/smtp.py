"""A real SMTP server in the test process (aiosmtpd) that records what it receives."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class OffersPipelining:
    """An aiosmtpd handler whose ``EHLO`` offers ``PIPELINING`` (RFC 2920), as Postfix, Exim and the big providers do.

    aiosmtpd reads each command as a line of its stream and answers in order, so it serves pipelined
    commands as the RFC asks; it only does not say so itself. ``offers_pipelining = False`` leaves it unsaid.
    """

    offers_pipelining = True

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # the hook's duty, once it is defined
        if not self.offers_pipelining:
            return responses
        return [*responses[:-1], '250-PIPELINING', responses[-1]]


class RecordingHandler(OffersPipelining):
    """Accepts mail and keeps it; answers chosen addresses with a chosen reply."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self.rcpt_replies: dict[str, str] = {}
        self._lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.original_content or b'', policy=policy.default)
        with self._lock:
            self.messages.append(parsed)
        return '250 Message accepted'

    def to(self, address: str) -> list[EmailMessage]:
        """The mails received for one address."""
        with self._lock:
            return [mail for mail in self.messages if mail['To'] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


class _Listening(Protocol):
    port: int


Recorder = TypeVar('Recorder', bound=_Listening)


@contextmanager
def serving_smtp(recorder: Recorder, smtputf8: bool = True) -> Iterator[Recorder]:
    """An in-process SMTP server on ``recorder.port`` while the block runs (offering SMTPUTF8 unless told not to).

    aiosmtpd's ``Controller`` offers SMTPUTF8 by default, unlike its ``SMTP`` class.
    """
    controller = Controller(recorder, hostname='127.0.0.1', port=recorder.port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[RecordingHandler]:
    """A running SMTP server, as its recording handler (which knows the port)."""
    with serving_smtp(RecordingHandler(free_port())) as recorder:
        yield recorder
