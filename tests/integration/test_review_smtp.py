"""Issue 17's SMTP defects, against an aiosmtpd server that behaves as the review described.

17.4 a server that takes the body and answers after the client's timeout: one copy, recorded uncertain,
     sent again only by the next retry tier (with the same Message-ID);
17.8 internationalized addresses against a server without SMTPUTF8 (turned off: aiosmtpd's Controller offers
     it by default): an ASCII local part goes out with the IDNA domain, a non-ASCII one fails alone and the
     email breaker stays closed.
"""

import asyncio
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from flask import Flask

from tests.integration import queries
from tests.integration.held_deliveries import (
    a_delivery,
    a_notification,
    answered,
    email_consumers,
    in_state,
    publish_send,
    with_settings,
)
from tests.plugins.app import running_consumers, wait_for
from tests.plugins.smtp import RecordingHandler, free_port, serving_smtp
from tests.resilience.conftest import breaker_phase

#: NOTIFIER_EMAIL_TIMEOUT of these tests, and how long the slow server takes to answer a body.
TIMEOUT_SECONDS = 1
REPLY_AFTER_SECONDS = 2
#: The retry tiers of the slow-server test: longer than a timeout, so a copy sent before one has passed is seen.
TIER_SECONDS = 4
VASYA = 'vasya@example.com'
ASCII_LOCAL = 'ivan@пример.рф'
ASCII_LOCAL_IN_IDNA = 'ivan@xn--e1afmkfd.xn--p1ai'
NON_ASCII_LOCAL = 'иван@example.com'


@pytest.fixture
def database_url(migrated_postgres: str) -> str:
    """These tests run on PostgreSQL (the breaker writes its rows there)."""
    return migrated_postgres


class SlowToAnswer(RecordingHandler):
    """Takes the body of the first ``slow`` mails, waits past the client's timeout, records it, answers 250.

    Every body's arrival is stamped when it has arrived, before the wait.
    """

    def __init__(self, port: int, slow: int) -> None:
        super().__init__(port)
        #: When each body arrived (monotonic seconds).
        self.arrivals: list[float] = []
        self._slow = slow

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.arrivals.append(time.monotonic())
        if len(self.arrivals) <= self._slow:
            await asyncio.sleep(REPLY_AFTER_SECONDS)  # the server's loop goes on serving other connections
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowToAnswer]:
    """A server slow to answer the first body; the app mails through it with a short timeout and long tiers."""
    with_settings(app, retry_delays='{0}s,{0}s'.format(TIER_SECONDS))
    with serving_smtp(SlowToAnswer(free_port(), slow=1)) as server:
        monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
        monkeypatch.setenv('NOTIFIER_EMAIL_TIMEOUT', str(TIMEOUT_SECONDS))
        yield server


def test_no_answer_after_the_body_is_uncertain_and_sent_again_only_after_the_retry_tier(
    app: Flask, slow_smtp: SlowToAnswer,
) -> None:
    assert REPLY_AFTER_SECONDS > TIMEOUT_SECONDS
    notification_id = a_notification(app)
    delivery_id = a_delivery(app, notification_id, VASYA)

    with running_consumers(app, stages=('sender',)):
        publish_send(app, notification_id, VASYA)
        first = wait_for(lambda: answered(app, delivery_id), what="the first send's answer recorded")
        copies_when_answered = len(slow_smtp.arrivals)
        sent = wait_for(lambda: in_state(app, delivery_id, 'sent'), timeout=30, what='the retried mail')

    assert copies_when_answered == 1  # the old transport had sent it again at once, on a new connection
    assert first.state == 'pending'
    assert first.last_error is not None
    assert first.last_error.startswith('uncertain: no answer from 127.0.0.1:{0}'.format(slow_smtp.port))
    first_arrival = slow_smtp.arrivals[0]
    assert [moment for moment in slow_smtp.arrivals if moment < first_arrival + TIER_SECONDS] == [first_arrival]
    assert len(slow_smtp.arrivals) == 2  # the retry tier's send (the window's one extra mail), answered at once
    assert sent.attempts == 2
    assert len({mail['Message-ID'] for mail in slow_smtp.to(VASYA)}) == 1  # both copies carry one Message-ID
    assert queries.parked_count(app) == 0


class EnvelopeRecording(RecordingHandler):
    """The recording server that also keeps each mail's ``RCPT TO`` and its header block as received."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.envelope_recipients: list[str] = []
        self.heads: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.envelope_recipients.extend(envelope.rcpt_tos)
        self.heads.append((envelope.original_content or b'').partition(b'\r\n\r\n')[0])
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def ascii_only_smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[EnvelopeRecording]:
    """A server without SMTPUTF8; the app's email breaker opens on the first temporary failure."""
    with_settings(app, breaker_failures=1)
    with serving_smtp(EnvelopeRecording(free_port()), smtputf8=False) as server:
        monkeypatch.setenv('NOTIFIER_EMAIL_URL', 'smtp://127.0.0.1:{0}'.format(server.port))
        yield server


def test_internationalized_addresses_without_smtputf8_go_out_in_idna_or_fail_alone_and_never_open_the_breaker(
    app: Flask, ascii_only_smtp: EnvelopeRecording,
) -> None:
    notification_id = a_notification(app)
    idna_id = a_delivery(app, notification_id, ASCII_LOCAL)
    refused_id = a_delivery(app, notification_id, NON_ASCII_LOCAL)

    with running_consumers(app, stages=('sender',)):
        publish_send(app, notification_id, NON_ASCII_LOCAL)
        publish_send(app, notification_id, ASCII_LOCAL)
        failed = wait_for(lambda: answered(app, refused_id), what='the non-ASCII local part answered')
        sent = wait_for(lambda: answered(app, idna_id), what='the IDNA domain answered')
        parked = wait_for(lambda: queries.parked_messages(app), what='the refused message parked')
        assert email_consumers(app) == 1  # the email queue is still read: no breaker stopped it

    assert ascii_only_smtp.envelope_recipients == [ASCII_LOCAL_IN_IDNA]
    head = ascii_only_smtp.heads[0]
    assert head.isascii()  # no 8-bit header to a server that did not offer SMTPUTF8 (RFC 6532 needs it)
    assert 'To: {0}'.format(ASCII_LOCAL_IN_IDNA).encode() in head.split(b'\r\n')
    assert (sent.state, sent.attempts) == ('sent', 1)
    assert (failed.state, failed.attempts) == ('failed', 1)  # permanent: never retried
    assert failed.last_error is not None
    assert 'SMTPUTF8' in failed.last_error
    assert [headers['x-notifier-park-reason'] for headers, _ in parked] == [failed.last_error]
    assert breaker_phase(app, 'channel.email') is None  # never changed, so never recorded
