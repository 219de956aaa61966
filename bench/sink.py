"""An SMTP sink that counts what it receives, and when.

It reads only the ``Message-ID`` header (a byte search, not a full parse of
the mail): the sink must not be what limits the figures it measures.
"""

import re
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


MESSAGE_ID = re.compile(rb'^Message-ID:[ \t]*(\S+)', re.IGNORECASE | re.MULTILINE)


def message_id_of(raw: bytes) -> str:
    """The Message-ID of a raw mail, looked for in its header section only."""
    headers = raw.split(b'\r\n\r\n', 1)[0]
    found = MESSAGE_ID.search(headers)
    return found.group(1).decode(errors='replace') if found else ''


class CountingSink:
    """Records (recipient, arrival time, Message-ID) of every mail."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        arrived = time.monotonic()
        message_id = message_id_of(envelope.original_content or b'')
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.arrivals.append((recipient, arrived, message_id))
        return '250 OK'

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def count_to(self, prefix: str) -> int:
        with self._lock:
            return sum(1 for recipient, _, _ in self.arrivals if recipient.startswith(prefix))

    def snapshot(self) -> list[tuple[str, float, str]]:
        with self._lock:
            return list(self.arrivals)

    def reset(self) -> None:
        with self._lock:
            self.arrivals.clear()


def start_sink(port: int) -> tuple[CountingSink, Controller]:
    sink = CountingSink()
    controller = Controller(sink, hostname='127.0.0.1', port=port)
    controller.start()
    return sink, controller
