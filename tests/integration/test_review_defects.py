"""Issue 17's pipeline defects, each against the real sender: RabbitMQ, PostgreSQL and an aiosmtpd server.

17.3 a delivery whose sender died on the last attempt is sent once after the lease, never parked;
17.5 a sender whose claim was taken over cannot overwrite the new holder's row;
17.7 a malformed attempt header is a first attempt, and the consumer stays up.
"""

import datetime as dt
import logging
from decimal import Decimal
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session as DatabaseSession

from notifier.models import Delivery
from notifier.models.base import utcnow
from notifier.settings import settings_of
from tests.integration import queries
from tests.integration.held_deliveries import (
    a_delivery,
    a_notification,
    delivery,
    email_consumers,
    in_state,
    publish_send,
    with_settings,
)
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler, free_port, serving_smtp

#: The sending lease of these tests (NOTIFIER_SENDING_LEASE), shorter than the retry tiers together (1 s, 2 s).
LEASE = 2.0
HELD = 'held@example.com'
TAKEN = 'taken@example.com'
UNTOUCHED = 'untouched@example.com'
TRY_LATER = '451 4.3.0 try again later'
#: Attempt headers that are not a count of ours: each must count as the first attempt.
MALFORMED_ATTEMPTS = ('abc', -5, 2 ** 62, [1, 2], Decimal('2.5'))


@pytest.fixture
def database_url(migrated_postgres: str) -> str:
    """These tests run on PostgreSQL: a second connection changes rows under the sender (17.5)."""
    return migrated_postgres


@pytest.fixture
def leased_app(smtp_app: Flask) -> Flask:
    """The app mailing through the in-process SMTP server, with a short sending lease."""
    return with_settings(smtp_app, sending_lease=LEASE)


def _waited_for_the_lease(caplog: pytest.LogCaptureFixture, attempt: int) -> list[str]:
    logged = [record.getMessage() for record in caplog.records]
    waiting = '(attempt {0}): delivery'.format(attempt)
    return [line for line in logged if waiting in line and line.endswith('is being sent by another consumer')]


def test_a_delivery_left_sending_by_a_dead_sender_on_the_last_attempt_waits_for_the_lease_and_is_sent_once(
    leased_app: Flask, smtp_server: RecordingHandler, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')
    last_attempt = len(settings_of(leased_app).retry_delay_seconds) + 1
    notification_id = a_notification(leased_app)

    with running_consumers(leased_app, stages=('sender',)):
        # A sender claimed the delivery on its last attempt and was killed just now: its row says so, and the
        # broker redelivers its message with the last attempt's header.
        held_since = utcnow()
        delivery_id = a_delivery(
            leased_app, notification_id, HELD, state='sending', sending_since=held_since, attempts=last_attempt - 1,
        )
        publish_send(leased_app, notification_id, HELD, attempt_header=last_attempt - 1)
        wait_for(
            lambda: smtp_server.to(HELD) or queries.parked_count(leased_app),
            what='the mail, or its message parked',
        )
        assert queries.parked_count(leased_app) == 0  # the old runner parked it here, leaving the row `sending`
        sent = wait_for(lambda: in_state(leased_app, delivery_id, 'sent'), what='the delivery recorded sent')

    assert len(smtp_server.to(HELD)) == 1
    assert sent.attempts == last_attempt  # the dead holder's claims, and this one
    assert sent.sent_at is not None
    assert sent.sent_at - held_since >= dt.timedelta(seconds=LEASE)  # taken over only once the lease ran out
    assert _waited_for_the_lease(caplog, last_attempt)  # it waited in a delay tier, on its last attempt


class TakenOverMeanwhile(RecordingHandler):
    """Records mail; while the mail to ``TAKEN`` is being sent, another sender takes its delivery over.

    The takeover is what a second sender's claim writes once the first one's lease expired: a new
    ``sending_since`` and one more attempt, through a database connection of its own.
    """

    def __init__(self, port: int, database_url: str) -> None:
        super().__init__(port)
        self.taken_over_at: dt.datetime | None = None
        self._engine = create_engine(database_url)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if TAKEN in envelope.rcpt_tos:
            moment = utcnow()
            with DatabaseSession(self._engine) as other_sender:
                other_sender.execute(
                    update(Delivery)
                    .where(Delivery.recipient == TAKEN, Delivery.state == 'sending')
                    .values(sending_since=moment, attempts=Delivery.attempts + 1),
                )
                other_sender.commit()
            self.taken_over_at = moment
        return await super().handle_DATA(server, session, envelope)

    def close(self) -> None:
        """Close the takeover's connections."""
        self._engine.dispose()


@pytest.fixture
def taking_over(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[TakenOverMeanwhile]:
    """An SMTP server under which another sender takes a delivery over; the app mails through it."""
    server = TakenOverMeanwhile(free_port(), settings_of(app).resolved_database_url)
    monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
    try:
        with serving_smtp(server):
            yield server
    finally:
        server.close()


def test_a_sender_whose_claim_was_taken_over_does_not_overwrite_the_new_holders_row(
    app: Flask, taking_over: TakenOverMeanwhile,
) -> None:
    notification_id = a_notification(app)
    taken_id = a_delivery(app, notification_id, TAKEN)
    untouched_id = a_delivery(app, notification_id, UNTOUCHED)

    with running_consumers(app, stages=('sender',)):
        # One consumer handles them in this order: once the second is recorded, so is the first.
        publish_send(app, notification_id, TAKEN)
        publish_send(app, notification_id, UNTOUCHED)
        wait_for(lambda: in_state(app, untouched_id, 'sent'), what='both answers recorded')

    assert len(taking_over.messages) == 2
    assert taking_over.taken_over_at is not None
    taken = delivery(app, taken_id)
    # The first sender's "sent" went nowhere: the row is still the new holder's, as its claim wrote it.
    assert (taken.state, taken.sending_since, taken.attempts) == ('sending', taking_over.taken_over_at, 2)
    assert (taken.sent_at, taken.provider_message_id) == (None, None)
    assert delivery(app, untouched_id).attempts == 1  # the fence lets a sender that kept its claim record


class RefusingEachOnce(RecordingHandler):
    """Answers each recipient's first ``RCPT`` with a 451, then takes its mail."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.refused: list[str] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if address not in self.refused:
            self.refused.append(address)
            return TRY_LATER
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def refusing_app(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Flask, RefusingEachOnce]]:
    """The app mailing through a server that refuses every recipient once (too few refusals to open its breaker)."""
    with_settings(app, breaker_failures=len(MALFORMED_ATTEMPTS) + 1)
    with serving_smtp(RefusingEachOnce(free_port())) as server:
        monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
        yield app, server


def _retried_as_first(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        '(attempt 1): SMTP 451' in record.getMessage() for record in caplog.records
        if record.getMessage().startswith('sender: retrying message')
    )


def test_a_malformed_attempt_header_counts_as_the_first_attempt_and_the_consumer_stays_up(
    refusing_app: tuple[Flask, RefusingEachOnce], caplog: pytest.LogCaptureFixture,
) -> None:
    app, smtp = refusing_app
    caplog.set_level(logging.INFO, logger='notifier.pipeline.runner')
    notification_id = a_notification(app)
    recipients = ['malformed{0}@example.com'.format(number) for number in range(len(MALFORMED_ATTEMPTS))]
    delivery_ids = [a_delivery(app, notification_id, recipient) for recipient in recipients]

    with running_consumers(app, stages=('sender',)) as process:
        for recipient, header in zip(recipients, MALFORMED_ATTEMPTS):
            publish_send(app, notification_id, recipient, attempt_header=header)
        sent: list[Any] = wait_for(
            lambda: all(in_state(app, each, 'sent') for each in delivery_ids) and [
                delivery(app, each) for each in delivery_ids
            ],
            timeout=30,
            what='every delivery sent after one refusal',
        )
        assert process.sessions == 1  # never crashed and reconnected
        assert email_consumers(app) == 1  # still reading its queue

    assert {row.attempts for row in sent} == {2}  # refused on the first attempt, sent on the second
    assert _retried_as_first(caplog) == len(recipients)  # each was retried from attempt 1, none parked
    assert queries.parked_count(app) == 0
    assert {recipient: len(smtp.to(recipient)) for recipient in recipients} == dict.fromkeys(recipients, 1)
