"""Waking the outbox relay when a row is written: PostgreSQL ``LISTEN notifier_outbox``.

A trigger on ``outbox`` notifies ``notifier_outbox`` at the commit of every
transaction that wrote rows (migration ``0012``). Each ``consume`` process
listens on a connection of its own, in a thread, and asks its relay to run on
the broker connection's thread; the relay still polls, slowly, in case a
notification is lost (the listener reconnecting, SQLite, which has no NOTIFY).
"""

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from notifier.backoff import Backoff

logger = logging.getLogger(__name__)

CHANNEL = 'notifier_outbox'
#: How often the listener looks whether it should stop.
STOP_CHECK_SECONDS = 1.0


def listens(database_url: str) -> bool:
    """Whether this database can wake the relay (PostgreSQL)."""
    return make_url(database_url).get_backend_name() == 'postgresql'


class OutboxListener:
    """A thread that calls ``wake`` whenever the outbox was written, until ``stopping`` is set."""

    def __init__(self, database_url: str, wake: Callable[[], None], stopping: threading.Event) -> None:
        """Listen on ``database_url`` (a SQLAlchemy PostgreSQL URL)."""
        self._conninfo = make_url(database_url).set(drivername='postgresql').render_as_string(hide_password=False)
        self._wake = wake
        self._stopping = stopping
        self._thread = threading.Thread(target=self._run, name='outbox-listener', daemon=True)

    def start(self) -> None:
        """Start listening."""
        self._thread.start()

    def _run(self) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                self._listen(backoff)
            except psycopg.Error as error:
                delay = backoff.next_delay()
                logger.warning('outbox listener lost PostgreSQL (%s); listening again in %.1fs', error, delay)
                self._stopping.wait(delay)

    def _listen(self, backoff: Backoff) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            connection.execute('LISTEN {0}'.format(CHANNEL))
            backoff.reset()
            self._wake()  # rows written while nobody listened
            while not self._stopping.is_set():
                for _ in connection.notifies(timeout=STOP_CHECK_SECONDS, stop_after=1):
                    self._wake()
