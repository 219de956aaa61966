"""An SMTP sink that counts what it receives, and when."""

import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class CountingSink:
    """Records (recipient, arrival time, Message-ID) of every mail."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[str, float, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        arrived = time.monotonic()
        headers = message_from_bytes(envelope.original_content or b'', policy=policy.default)
        with self._lock:
            for recipient in envelope.rcpt_tos:
                self.arrivals.append((recipient, arrived, str(headers['Message-ID'])))
        return '250 OK'

    def count(self) -> int:
        with self._lock:
            return len(self.arrivals)

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
