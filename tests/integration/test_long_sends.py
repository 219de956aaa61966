"""Issue 17.5: long sends keep the broker connection alive, and the sending lease bounds a whole chunk.

A server that answers a body later than the connection's heartbeat timeout: the
consumer's connection is still the first one (no close by the broker, no
reconnection, no redelivery) and the mail arrives once. A chunk of mails to a
slow server: no mail is begun after half its claim's lease, so none is sent
after another sender could have taken the claim over; each arrives once.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from notifier.models.delivery import delivery_id_for
from notifier.pipeline.broker import BrokerConnection
from notifier.pipeline.declare import declare_topology
from notifier.settings import settings_of
from tests.integration import queries
from tests.integration.held_deliveries import (
    EMAIL,
    a_delivery,
    a_notification,
    delivery,
    in_state,
    publish_send,
    with_settings,
)
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler, free_port, serving_smtp

#: The consumer's heartbeat in the first test (RabbitMQ closes a connection that misses two).
HEARTBEAT_SECONDS = 2
#: How long the slow server takes to answer a body: several heartbeat timeouts.
SLOW_REPLY_SECONDS = 12
#: NOTIFIER_EMAIL_TIMEOUT: longer than the slow reply, so the client waits for it.
EMAIL_TIMEOUT_SECONDS = 30
VASYA = 'vasya@example.com'
PETYA = 'petya@example.com'
#: The lease test: a short lease (shorter than the retry tiers, as the settings require), slow answers.
LEASE_SECONDS = 3.0
LEASE_REPLY_SECONDS = 2
LEASE_TIER_SECONDS = 4
CHUNK = ('a@example.com', 'b@example.com', 'c@example.com')


@pytest.fixture
def database_url(migrated_postgres: str) -> str:
    """These tests run on PostgreSQL."""
    return migrated_postgres


class SlowFirstBody(RecordingHandler):
    """Takes the first body, answers it ``SLOW_REPLY_SECONDS`` later with 250; the others at once."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self._bodies = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self._bodies += 1
        if self._bodies == 1:
            await asyncio.sleep(SLOW_REPLY_SECONDS)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowFirstBody]:
    """A server slow to answer the first body; the consumers ask RabbitMQ for a two-second heartbeat."""
    with_settings(app, broker_heartbeat=HEARTBEAT_SECONDS)
    with serving_smtp(SlowFirstBody(free_port())) as server:
        monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
        monkeypatch.setenv('NOTIFIER_EMAIL_TIMEOUT', str(EMAIL_TIMEOUT_SECONDS))
        yield server


def _batches_handled(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage() for record in caplog.records
        if record.getMessage().startswith('sender: handled')
    ]


def test_a_send_longer_than_the_heartbeat_timeout_keeps_the_connection_and_sends_once(
    app: Flask, slow_smtp: SlowFirstBody, caplog: pytest.LogCaptureFixture,
) -> None:
    assert SLOW_REPLY_SECONDS > 4 * HEARTBEAT_SECONDS
    caplog.set_level(logging.INFO)
    notification_id = a_notification(app)
    slow_id = a_delivery(app, notification_id, VASYA)
    next_id = a_delivery(app, notification_id, PETYA)

    with running_consumers(app, stages=('sender',)) as process:
        publish_send(app, notification_id, VASYA)
        wait_for(lambda: in_state(app, slow_id, 'sent'), timeout=60, what='the slow mail sent')
        # A second message after it: handled once the first batch was acked (one batch at a time), on
        # whatever connection the process has by then.
        publish_send(app, notification_id, PETYA)
        wait_for(lambda: in_state(app, next_id, 'sent'), timeout=60, what='the next mail sent')
        wait_for(lambda: len(_batches_handled(caplog)) >= 2, what="the second batch's log line")
        sessions = process.sessions

    assert sessions == 1  # the broker never closed the connection: no reconnection
    reconnections = [record for record in caplog.records if 'reconnecting' in record.getMessage()]
    assert reconnections == []
    assert len(_batches_handled(caplog)) == 2  # no redelivery of the slow mail's message
    assert len(slow_smtp.to(VASYA)) == 1
    assert len(slow_smtp.to(PETYA)) == 1
    assert delivery(app, slow_id).attempts == 1
    assert queries.parked_count(app) == 0


class SlowAndStamping(RecordingHandler):
    """Answers every body ``LEASE_REPLY_SECONDS`` late; stamps each with how old its claim was on arrival."""

    def __init__(self, port: int, app: Flask) -> None:
        super().__init__(port)
        self._app = app
        #: The notification whose deliveries arrive (set by the test).
        self.notification_id = ''
        #: (recipient, seconds since its delivery was claimed) for each body, taken when it arrived.
        self.claim_ages: list[tuple[str, float]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        arrived = dt.datetime.now(dt.timezone.utc)
        for recipient in envelope.rcpt_tos:
            row = delivery(self._app, delivery_id_for(self.notification_id, recipient, EMAIL))
            claimed = row.sending_since
            age = (arrived - claimed).total_seconds() if claimed else float('inf')
            self.claim_ages.append((recipient, age))
        await asyncio.sleep(LEASE_REPLY_SECONDS)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def stamping_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowAndStamping]:
    """A slow server; a short lease, chunks of three, tiers longer than the lease."""
    with_settings(
        app,
        sending_lease=LEASE_SECONDS,
        send_chunk=len(CHUNK),
        retry_delays='{0}s,{0}s,{0}s'.format(LEASE_TIER_SECONDS),
    )
    with serving_smtp(SlowAndStamping(free_port(), app)) as server:
        monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
        yield server


def test_no_mail_of_a_chunk_is_begun_after_half_its_claims_lease_and_each_is_sent_once(
    app: Flask, stamping_smtp: SlowAndStamping,
) -> None:
    assert len(CHUNK) * LEASE_REPLY_SECONDS > LEASE_SECONDS  # one chunk, sent in a row, outlasts the lease
    notification_id = a_notification(app)
    stamping_smtp.notification_id = notification_id
    delivery_ids = [a_delivery(app, notification_id, address) for address in CHUNK]

    broker = BrokerConnection(settings_of(app).broker_url, 'test long sends')
    try:
        declare_topology(broker, settings_of(app))
    finally:
        broker.close()
    for address in CHUNK:  # published before the sender starts: it takes them as one batch, one chunk
        publish_send(app, notification_id, address)
    with running_consumers(app, stages=('sender',)):
        wait_for(
            lambda: all(in_state(app, delivery_id, 'sent') for delivery_id in delivery_ids),
            timeout=90,
            what='every mail sent',
        )

    assert sorted(recipient for recipient, _ in stamping_smtp.claim_ages) == sorted(CHUNK)  # each once
    late = [(recipient, age) for recipient, age in stamping_smtp.claim_ages if age >= LEASE_SECONDS]
    # Every body arrived while its claim held: no other sender could have taken it over.
    assert not late, stamping_smtp.claim_ages
    for address in CHUNK:
        assert len(stamping_smtp.to(address)) == 1
    given_back = [delivery(app, delivery_id) for delivery_id in delivery_ids]
    assert [row.attempts for row in given_back] == [1, 1, 1]  # a claim given back unsent is not an attempt
    assert queries.parked_count(app) == 0
