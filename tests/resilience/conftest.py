"""Fixtures of the failover tests: a user service and an SMTP server that fail on demand, fast breakers."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pika
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask, Response, request

from notifier.extensions import db
from notifier.models import BreakerState
from notifier.pipeline import topology
from notifier.settings import SETTINGS_KEY, settings_of
from tests.plugins.smtp import RecordingHandler, free_port, serving_smtp
from tests.users.reference_server import ReferenceDirectory, serving

#: Breakers that open after three failures, probe every half second and ramp up in one-second steps;
#: retry tiers enough that a message refused by a few probes is never parked.
FAST_BREAKERS = {
    'breaker_failures': 3,
    'breaker_probe_seconds': 0.5,
    'breaker_slow_start_fraction': 0.1,
    'breaker_slow_start_seconds': 1.0,
    'retry_delays': '1s,1s,1s,1s,1s,1s',
}


class FlakyDirectory(ReferenceDirectory):
    """The reference user service, which answers 503 to everything while ``down`` and stamps each request."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        #: (monotonic time, "METHOD path", status answered) of every request.
        self.stamped: list[tuple[float, str, int]] = []
        self._stamp_lock = threading.Lock()

    def app(self) -> Flask:
        served = super().app()
        served.before_request_funcs.setdefault(None, []).insert(0, self._stamp)
        return served

    def calls(self, line: str, status: int | None = None) -> list[float]:
        """When requests like ``line`` came (answered with ``status``, if given)."""
        with self._stamp_lock:
            return [
                moment for moment, seen, answered in self.stamped
                if seen.startswith(line) and status in {None, answered}
            ]

    def _stamp(self) -> Response | None:
        line = '{0} {1}'.format(request.method, request.full_path.rstrip('?'))
        down = self.down
        with self._stamp_lock:
            self.stamped.append((time.monotonic(), line, 503 if down else 200))
        if down:
            return Response('down on purpose', status=503)
        return None


class FlakySmtp(RecordingHandler):
    """The recording SMTP server; refuses every recipient with ``refuse_all`` while it is set; times arrivals."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.refuse_all: str | None = None
        #: (monotonic time, recipient) of every accepted mail.
        self.arrivals: list[tuple[float, str]] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        refusal = self.refuse_all
        if refusal is not None:
            return refusal
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        self.arrivals.extend((time.monotonic(), str(recipient)) for recipient in envelope.rcpt_tos)
        return answer

    def arrived(self, domain: str) -> list[float]:
        """When the mails to ``domain`` arrived."""
        return sorted(moment for moment, recipient in self.arrivals if recipient.endswith('@{0}'.format(domain)))


@pytest.fixture
def database_url(migrated_postgres: str) -> str:
    """The failover tests run on PostgreSQL only (the breakers write rows; the pipeline tests cover SQLite)."""
    return migrated_postgres


@pytest.fixture
def flaky_users() -> Iterator[FlakyDirectory]:
    """The reference user service, running, able to go down."""
    with serving(FlakyDirectory()) as directory:
        yield directory


@pytest.fixture
def flaky_smtp() -> Iterator[FlakySmtp]:
    """An SMTP server that can refuse everything for a while."""
    with serving_smtp(FlakySmtp(free_port())) as recorder:
        yield recorder


@pytest.fixture
def failover_app(
    app: Flask, flaky_smtp: FlakySmtp, flaky_users: FlakyDirectory, monkeypatch: pytest.MonkeyPatch,
) -> Flask:
    """The test app with fast breakers, mailing through ``flaky_smtp``, users from ``flaky_users``."""
    monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(flaky_smtp.port))
    settings = settings_of(app)
    app.extensions[SETTINGS_KEY] = settings.model_copy(update={**FAST_BREAKERS, 'users_url': flaky_users.url})
    return app


def breaker_phase(app: Flask, name: str) -> str | None:
    """The phase this test process's breaker ``name`` last recorded."""
    with app.app_context():
        rows = db.session.scalars(db.select(BreakerState).where(BreakerState.name == name)).all()
        db.session.remove()
    return rows[0].phase if rows else None


def breaker_rows(app: Flask) -> list[tuple[str, str, str]]:
    """Every breaker row: name, holder, phase."""
    with app.app_context():
        rows = db.session.scalars(db.select(BreakerState).order_by(BreakerState.name)).all()
        found = [(row.name, row.holder, row.phase) for row in rows]
        db.session.remove()
    return found


def queue_state(app: Flask, routing_key: str) -> tuple[int, int]:
    """Messages ready in a work queue, and how many consumers read it."""
    connection = pika.BlockingConnection(pika.URLParameters(settings_of(app).broker_url))
    try:
        declared: Any = connection.channel().queue_declare(topology.queue_name(routing_key), passive=True)
        return int(declared.method.message_count), int(declared.method.consumer_count)
    finally:
        connection.close()
