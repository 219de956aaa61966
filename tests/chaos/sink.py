"""An SMTP sink (aiosmtpd) that records every mail and can be told to misbehave at run time."""

import asyncio
import collections
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.plugins.smtp import OffersPipelining

ACCEPTED = '250 Message accepted'
TEMPORARY = '451 4.3.0 chaos: try again later'
PERMANENT = '550 5.1.1 chaos: no such user'


class Mode:
    """How the sink answers."""

    normal = 'normal'
    temporary = 'temporary'  # 451 for every mail
    hang = 'hang'  # take the mail (recorded), answer 250 only after the client gave up waiting


@dataclass(frozen=True)
class ReceivedMail:
    """One mail as the sink accepted it."""

    message_id: str
    to: str
    received_at: float


class ChaosSink(OffersPipelining):
    """Records accepted mails; answers 451 / 550 / nothing when told to."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = Mode.normal
        self.refused: frozenset[str] = frozenset()
        self.hang_seconds = 30.0
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self.rejected = collections.Counter[str]()

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if address in self.refused:
            self._count('550')
            return PERMANENT
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.mode == Mode.temporary:
            self._count('451')
            return TEMPORARY
        self._record(envelope)
        if self.mode == Mode.hang:
            # The mail is taken: a client that sends it again at once (issue 17, defect 4) is seen twice.
            self._count('hang')
            await asyncio.sleep(self.hang_seconds)
        return ACCEPTED

    def mails(self) -> list[ReceivedMail]:
        """Every mail accepted so far, duplicates included."""
        with self._lock:
            return list(self._mails)

    def reset(self) -> None:
        """Back to answering 250 to everyone, with an empty record."""
        self.mode = Mode.normal
        self.refused = frozenset()
        self.rejected.clear()
        with self._lock:
            self._mails.clear()

    def _count(self, answer: str) -> None:
        with self._lock:
            self.rejected[answer] += 1

    def _record(self, envelope: Envelope) -> None:
        parsed = message_from_bytes(envelope.original_content or b'', policy=policy.default)
        mail = ReceivedMail(str(parsed['Message-ID']), str(parsed['To']), time.monotonic())
        with self._lock:
            self._mails.append(mail)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_sink() -> Iterator[ChaosSink]:
    """A sink listening on a free port of 127.0.0.1 until the block ends."""
    sink = ChaosSink(free_port())
    controller = Controller(sink, hostname='127.0.0.1', port=sink.port, ready_timeout=10)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
