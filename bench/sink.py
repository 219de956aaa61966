"""An SMTP sink in a process of its own that records what it receives, and when.

It reads only the ``Message-ID`` header (a byte search, not a full parse of
the mail): the sink must not be what limits the figures it measures. It runs
in its own process, so its CPU is not the bench's or the service's, and
appends one line per mail (recipient, arrival on the machine's monotonic
clock, Message-ID) to a file that the bench reads as it grows.

Run: ``python -m bench.sink PORT FILE``.
"""

import asyncio
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.plugins.smtp import OffersPipelining

#: How long the sink may take to listen.
START_SECONDS = 30
MESSAGE_ID = re.compile(rb'^Message-ID:[ \t]*(\S+)', re.IGNORECASE | re.MULTILINE)


def message_id_of(raw: bytes) -> str:
    """The Message-ID of a raw mail, looked for in its header section only."""
    headers = raw.split(b'\r\n\r\n', 1)[0]
    found = MESSAGE_ID.search(headers)
    return found.group(1).decode(errors='replace') if found else ''


class RecordingSink(OffersPipelining):
    """aiosmtpd handler: one line per mail and recipient; it offers PIPELINING, as real mail servers do."""

    def __init__(self, record: IO[str]) -> None:
        self.record = record

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        arrived = time.monotonic()
        message_id = message_id_of(envelope.original_content or b'')
        for recipient in envelope.rcpt_tos:
            self.record.write('{0}\t{1:.6f}\t{2}\n'.format(recipient, arrived, message_id))
        return '250 OK'


class SinkReader:
    """The bench's view of the sink's record: counts and arrivals since the last :meth:`reset`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.arrivals: list[tuple[str, float, str]] = []
        self._offset = 0
        #: Per prefix: how many arrivals were looked at, and how many of them went to the prefix (polled often:
        #: counting a 100,000-mail record anew 20 times a second was the bench client's own CPU).
        self._counted: dict[str, tuple[int, int]] = {}

    def count(self) -> int:
        self._read()
        return len(self.arrivals)

    def count_to(self, prefix: str) -> int:
        self._read()
        seen, counted = self._counted.get(prefix, (0, 0))
        new_arrivals = self.arrivals[seen:]
        counted += sum(1 for recipient, _, _ in new_arrivals if recipient.startswith(prefix))
        self._counted[prefix] = (len(self.arrivals), counted)
        return counted

    def snapshot(self) -> list[tuple[str, float, str]]:
        self._read()
        return list(self.arrivals)

    def reset(self) -> None:
        self._read()
        self.arrivals.clear()
        self._counted.clear()

    def _read(self) -> None:
        with self.path.open('rb') as record:
            record.seek(self._offset)
            chunk = record.read()
        complete = chunk[:chunk.rfind(b'\n') + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            recipient, arrived, message_id = line.split('\t')
            self.arrivals.append((recipient, float(arrived), message_id))


def start_sink(port: int, record: Path) -> tuple[SinkReader, subprocess.Popen[bytes]]:
    """The sink process, once it listens, and a reader of its record."""
    record.touch()
    process = subprocess.Popen([sys.executable, '-m', 'bench.sink', str(port), str(record)])
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            import smtplib  # noqa: WPS433 - only the parent needs it
            with smtplib.SMTP('127.0.0.1', port, timeout=1):
                return SinkReader(record), process
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit('bench: the SMTP sink did not start')


def main() -> None:
    port = int(sys.argv[1])
    path = Path(sys.argv[2])
    with path.open('a', buffering=1) as record:  # line-buffered: the bench reads each mail at once
        controller = Controller(RecordingSink(record), hostname='127.0.0.1', port=port)
        with ExitStack() as running:
            controller.start()
            running.callback(controller.stop)
            asyncio.run(asyncio.Event().wait())


if __name__ == '__main__':
    main()
