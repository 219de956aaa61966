"""The email channel's ``send_many`` against a real SMTP server: one write per mail where PIPELINING is offered.

Each mail's body goes out in one write with the next mail's envelope (RFC 2920), so a run of N mails
takes N + 1 writes instead of 2 N (4 N without PIPELINING); every failure keeps the meaning it has
for a mail sent alone: a refused recipient fails that mail only, a body without an answer is
uncertain (not re-sent at once), an envelope without an answer goes again on a new connection.
"""

import functools
import smtplib
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifier.channels.base import OutgoingMessage, SendResult, SendStatus
from notifier_email_smtp.channel import EmailChannel
from tests.plugins.smtp import RecordingHandler, free_port, serving_smtp

MAILS = 5
ALL_SENT = [SendStatus.sent for _ in range(MAILS)]


def outgoing(number: int) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id='6f1c1c52-0000-4000-8000-00000000000{0}'.format(number),
        notification_id='n1',
        recipient='viewer{0}@example.com'.format(number),
        subject='Премьера {0}'.format(number),
        html='',
        text='Новый сезон {0} уже на сайте'.format(number),
    )


class Writes:
    """How many times the client wrote to its SMTP connections (it wraps ``smtplib.SMTP.send``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.send = smtplib.SMTP.send
        monkeypatch.setattr(smtplib.SMTP, 'send', functools.partialmethod(_counted_send, self))


def _counted_send(connection: smtplib.SMTP, writes: Writes, written: bytes | str) -> None:
    writes.count += 1
    writes.send(connection, written)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    return Writes(monkeypatch)


def channel_of(server: RecordingHandler) -> EmailChannel:
    return EmailChannel.from_environment({'url': 'smtp://127.0.0.1:{0}'.format(server.port), 'timeout': '5'})


def always() -> bool:
    return True


def sent_many(server: RecordingHandler, may_begin: Callable[[], bool] = always) -> list[SendResult]:
    channel = channel_of(server)
    try:
        return channel.send_many([outgoing(number) for number in range(1, MAILS + 1)], may_begin)
    finally:
        channel.close()


def received(server: RecordingHandler) -> list[str]:
    return [str(mail['To']) for mail in server.messages]


def test_pipelined_mails_take_one_write_each_and_arrive_intact_in_order(
    smtp_server: RecordingHandler, writes: Writes,
) -> None:
    answers = sent_many(smtp_server)

    assert [answer.status for answer in answers] == ALL_SENT
    assert received(smtp_server) == ['viewer{0}@example.com'.format(number) for number in range(1, MAILS + 1)]
    message_ids = [str(mail['Message-ID']) for mail in smtp_server.messages]
    assert [answer.provider_message_id for answer in answers] == message_ids
    assert [mail.get_body(preferencelist=('plain',)).get_content() for mail in smtp_server.messages] == [
        'Новый сезон {0} уже на сайте'.format(number) for number in range(1, MAILS + 1)
    ]
    # EHLO; the first mail as a connection's first (envelope, then body); each other envelope in one write
    # with the body before it; the last body; QUIT.
    assert writes.count == 1 + 2 + (MAILS - 1) + 1 + 1


class NoPipelining(RecordingHandler):
    offers_pipelining = False


def test_without_pipelining_each_command_waits_for_its_reply(writes: Writes) -> None:
    with serving_smtp(NoPipelining(free_port())) as server:
        answers = sent_many(server)

    assert [answer.status for answer in answers] == ALL_SENT
    assert received(server) == ['viewer{0}@example.com'.format(number) for number in range(1, MAILS + 1)]
    assert writes.count == 1 + 4 * MAILS + 1  # EHLO; MAIL, RCPT, DATA and the body of each; QUIT


def test_a_refused_recipient_fails_its_mail_alone(smtp_server: RecordingHandler) -> None:
    smtp_server.rcpt_replies['viewer2@example.com'] = '550 5.1.1 no such user'

    answers = sent_many(smtp_server)

    assert [answer.status for answer in answers] == [
        SendStatus.sent, SendStatus.permanent_failure, SendStatus.sent, SendStatus.sent, SendStatus.sent,
    ]
    assert answers[1].detail == 'SMTP 550 5.1.1 no such user'
    assert received(smtp_server) == ['viewer{0}@example.com'.format(number) for number in (1, 3, 4, 5)]


class DropsAfterSecondBody(RecordingHandler):
    """Takes the second mail and drops the connection before answering it (the client cannot know it arrived)."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == 2:
            server.transport.close()
        return reply


def test_a_body_left_unanswered_is_uncertain_and_the_next_mail_goes_on_a_new_connection() -> None:
    with serving_smtp(DropsAfterSecondBody(free_port())) as server:
        answers = sent_many(server)

    assert [answer.status for answer in answers] == [
        SendStatus.sent, SendStatus.temporary_failure, SendStatus.sent, SendStatus.sent, SendStatus.sent,
    ]
    assert answers[1].detail.startswith('uncertain: no answer from 127.0.0.1:{0}'.format(server.port))
    # Each mail arrived once: the second was not sent again at once, the third (whose envelope went out
    # with the second's body on the dropped connection) was sent on a new one.
    assert received(server) == ['viewer{0}@example.com'.format(number) for number in range(1, MAILS + 1)]


def test_mails_not_let_begin_are_not_sent(smtp_server: RecordingHandler) -> None:
    allowed = iter([True, True, False])

    answers = sent_many(smtp_server, lambda: next(allowed))

    assert [answer.status for answer in answers] == [SendStatus.sent, SendStatus.sent]
    assert received(smtp_server) == ['viewer1@example.com', 'viewer2@example.com']


def test_an_unbuildable_mail_is_answered_in_its_place(smtp_server: RecordingHandler) -> None:
    messages = [outgoing(1), OutgoingMessage('d', 'n', 'not-an-address', 's', '', 't'), outgoing(3)]
    channel = channel_of(smtp_server)
    try:
        answers = channel.send_many(messages, always)
    finally:
        channel.close()

    assert [answer.status for answer in answers] == [SendStatus.sent, SendStatus.permanent_failure, SendStatus.sent]
    assert received(smtp_server) == ['viewer1@example.com', 'viewer3@example.com']


@pytest.fixture
def smtp_server() -> Iterator[RecordingHandler]:
    """A server offering PIPELINING (the default of the test server, as of real ones)."""
    with serving_smtp(RecordingHandler(free_port())) as recorder:
        yield recorder
